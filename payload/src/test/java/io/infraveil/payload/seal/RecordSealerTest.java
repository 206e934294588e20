package io.infraveil.payload.seal;

import static io.infraveil.payload.seal.SealFixtures.KEY;
import static io.infraveil.payload.seal.SealFixtures.PREFIX;
import static io.infraveil.payload.seal.SealFixtures.data;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.payload.Sha256Hex;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RecordSealerTest {

  private static final int RECORD = RecordFormat.DEFAULT_RECORD_SIZE;

  // Sizes around record boundaries are where off-by-one errors in the final flag hide.
  @ParameterizedTest
  @ValueSource(ints = {0, 1, RECORD - 1, RECORD, RECORD + 1, 3 * RECORD + 5})
  void sealReportsSizesAndPlaintextHash(int size) throws Exception {
    byte[] plaintext = data(size);
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    SealResult result =
        RecordSealer.seal(new ByteArrayInputStream(plaintext), out, KEY, PREFIX, RECORD);

    assertEquals(size, result.plaintextSize());
    assertEquals(RecordFormat.ciphertextSize(size, RECORD), result.ciphertextSize());
    assertEquals(out.size(), result.ciphertextSize());
    assertEquals(Sha256Hex.format(Sha256Hex.newDigest().digest(plaintext)), result.sha256Hex());
  }

  // Pins the wire format: any AES-GCM implementation given the documented nonce and AAD opens it.
  @Test
  void recordsUseDocumentedNonceAndAad() throws Exception {
    byte[] plaintext = data(10);
    byte[] sealed = SealFixtures.seal(plaintext, 4);
    byte[][] expectedPlain = {
        Arrays.copyOfRange(plaintext, 0, 4),
        Arrays.copyOfRange(plaintext, 4, 8),
        Arrays.copyOfRange(plaintext, 8, 10)};
    int offset = 0;
    for (int index = 0; index < 3; index++) {
      int length = expectedPlain[index].length + 16;
      byte[] nonce = ByteBuffer.allocate(12).put(PREFIX).putInt(index)
          .put((byte) (index == 2 ? 1 : 0)).array();
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, KEY, new GCMParameterSpec(128, nonce));
      cipher.updateAAD("infraveil-payload-v1".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      assertArrayEquals(expectedPlain[index], cipher.doFinal(sealed, offset, length));
      offset += length;
    }
    assertEquals(sealed.length, offset);
  }

  @Test
  void sealRefusesNoncePrefixOfWrongLength() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RecordSealer.seal(new ByteArrayInputStream(new byte[1]), new ByteArrayOutputStream(),
            KEY, new byte[8], RECORD));
    assertTrue(e.getMessage().contains("noncePrefix must be 7 bytes, got 8"), e.getMessage());
  }

  @Test
  void sealRefusesAes128Key() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RecordSealer.seal(new ByteArrayInputStream(new byte[1]), new ByteArrayOutputStream(),
            new javax.crypto.spec.SecretKeySpec(new byte[16], "AES"), PREFIX, RECORD));
    assertTrue(e.getMessage().contains("AES-256 (32 bytes), got 16"), e.getMessage());
  }
}
