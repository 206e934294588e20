package io.infraveil.payload.seal;

import io.infraveil.payload.PayloadRejectedException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/** Fixed keys and data so that failures reproduce. */
final class SealFixtures {

  static final SecretKey KEY = key(1);
  static final SecretKey OTHER_KEY = key(2);
  static final byte[] PREFIX = {7, 6, 5, 4, 3, 2, 1};

  private SealFixtures() {}

  static SecretKey key(int seed) {
    byte[] bytes = new byte[32];
    Arrays.fill(bytes, (byte) seed);
    return new SecretKeySpec(bytes, "AES");
  }

  static byte[] data(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  static byte[] seal(byte[] plaintext, int recordSize) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RecordSealer.seal(new ByteArrayInputStream(plaintext), out, KEY, PREFIX, recordSize);
    return out.toByteArray();
  }

  static byte[] open(byte[] ciphertext, int recordSize)
      throws IOException, PayloadRejectedException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RecordOpener.open(new ByteArrayInputStream(ciphertext), out, KEY, PREFIX, recordSize);
    return out.toByteArray();
  }
}
