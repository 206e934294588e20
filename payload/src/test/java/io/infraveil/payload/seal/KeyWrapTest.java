package io.infraveil.payload.seal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class KeyWrapTest {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final byte[] WRAP_KEY = filled(32, 9);
  private static final String SHA = "ab".repeat(32);
  private static final SecretKey DATA_KEY = DataKeys.newDataKey(RANDOM);

  @Test
  void unwrapReturnsTheWrappedKey() throws Exception {
    byte[] wrapped = KeyWrap.wrap(WRAP_KEY, DATA_KEY, SHA, RANDOM);

    assertEquals(KeyWrap.WRAPPED_LENGTH, wrapped.length);
    assertArrayEquals(DATA_KEY.getEncoded(), KeyWrap.unwrap(WRAP_KEY, wrapped, SHA).getEncoded());
  }

  // A wrapped key lifted from one payload must not open another payload's records.
  @Test
  void unwrapRejectsOtherPayloadHash() {
    byte[] wrapped = KeyWrap.wrap(WRAP_KEY, DATA_KEY, SHA, RANDOM);

    PayloadRejectedException e = assertRejected(
        () -> KeyWrap.unwrap(WRAP_KEY, wrapped, "cd".repeat(32)));

    assertTrue(e.getMessage().contains("does not open for sha256 " + "cd".repeat(32)),
        e.getMessage());
  }

  @Test
  void unwrapRejectsOtherWrapKey() {
    byte[] wrapped = KeyWrap.wrap(WRAP_KEY, DATA_KEY, SHA, RANDOM);

    assertRejected(() -> KeyWrap.unwrap(filled(32, 8), wrapped, SHA));
  }

  @Test
  void unwrapRejectsFlippedByte() {
    byte[] wrapped = KeyWrap.wrap(WRAP_KEY, DATA_KEY, SHA, RANDOM);
    wrapped[20] ^= 1;

    assertRejected(() -> KeyWrap.unwrap(WRAP_KEY, wrapped, SHA));
  }

  @Test
  void unwrapRejectsWrongLength() {
    byte[] wrapped = Arrays.copyOf(KeyWrap.wrap(WRAP_KEY, DATA_KEY, SHA, RANDOM), 59);

    PayloadRejectedException e = assertRejected(() -> KeyWrap.unwrap(WRAP_KEY, wrapped, SHA));

    assertTrue(e.getMessage().contains("59 bytes, expected 60"), e.getMessage());
  }

  @Test
  void wrappingTwiceUsesFreshNonces() {
    assertTrue(!Arrays.equals(KeyWrap.wrap(WRAP_KEY, DATA_KEY, SHA, RANDOM),
        KeyWrap.wrap(WRAP_KEY, DATA_KEY, SHA, RANDOM)));
  }

  private static PayloadRejectedException assertRejected(Executable unwrap) {
    PayloadRejectedException e = assertThrows(PayloadRejectedException.class, unwrap);
    assertEquals(RejectionReason.KEY_UNWRAP_FAILED, e.reason());
    assertTrue(e.getMessage().startsWith("payload rejected (KEY_UNWRAP_FAILED): "), e.getMessage());
    assertTrue(e.getMessage().endsWith("the payload was not used"), e.getMessage());
    return e;
  }

  private static byte[] filled(int length, int value) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) value);
    return bytes;
  }
}
