package io.infraveil.payload.secret;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.seal.DataKeys;
import java.security.SecureRandom;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;

class SecretSealTest {

  private final SecureRandom random = new SecureRandom();
  private final byte[] hostWrapKey = bytes(32, 7);
  private final byte[] otherHostWrapKey = bytes(32, 9);
  private final byte[] value = "s3cr3t-value".getBytes(UTF_8);

  /** A value sealed and wrapped for a host opens there, and the ciphertext does not contain it. */
  @Test
  void sealedSecretOpensForItsHostAndBinding() throws Exception {
    String binding = SecretSeal.binding("web", "db_password", 3);
    SecretKey dataKey = DataKeys.newDataKey(random);
    byte[] sealed = SecretSeal.sealValue(dataKey, value, binding, random);
    byte[] wrapped = SecretSeal.wrapKey(hostWrapKey, dataKey, binding, random);

    assertArrayEquals(value, SecretSeal.open(hostWrapKey, wrapped, sealed, binding));
    assertFalse(new String(sealed, java.nio.charset.StandardCharsets.ISO_8859_1)
        .contains("s3cr3t-value"));
    assertEquals(12 + value.length + 16, sealed.length);
  }

  /** Another host's wrap key cannot unwrap the data key. */
  @Test
  void anotherHostCannotUnwrap() {
    String binding = SecretSeal.binding("web", "db_password", 1);
    SecretKey dataKey = DataKeys.newDataKey(random);
    byte[] sealed = SecretSeal.sealValue(dataKey, value, binding, random);
    byte[] wrapped = SecretSeal.wrapKey(hostWrapKey, dataKey, binding, random);

    PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
        () -> SecretSeal.open(otherHostWrapKey, wrapped, sealed, binding));
    assertEquals(RejectionReason.KEY_UNWRAP_FAILED, e.reason());
  }

  /** A sealed value replayed as another secret, deployment or version does not open. */
  @Test
  void bindingCoversDeploymentNameAndVersion() {
    String binding = SecretSeal.binding("web", "db_password", 2);
    SecretKey dataKey = DataKeys.newDataKey(random);
    byte[] sealed = SecretSeal.sealValue(dataKey, value, binding, random);
    byte[] wrapped = SecretSeal.wrapKey(hostWrapKey, dataKey, binding, random);

    for (String other : new String[] {SecretSeal.binding("web", "db_password", 1),
        SecretSeal.binding("web", "api_key", 2), SecretSeal.binding("api", "db_password", 2)}) {
      PayloadRejectedException unwrap = assertThrows(PayloadRejectedException.class,
          () -> SecretSeal.open(hostWrapKey, wrapped, sealed, other));
      assertEquals(RejectionReason.KEY_UNWRAP_FAILED, unwrap.reason());
      PayloadRejectedException open = assertThrows(PayloadRejectedException.class,
          () -> SecretSeal.openValue(dataKey, sealed, other));
      assertEquals(RejectionReason.DECRYPT_FAILED, open.reason());
    }
  }

  /** A flipped bit in the sealed value is refused, naming the secret but not its value. */
  @Test
  void tamperedValueIsRefused() {
    String binding = SecretSeal.binding("web", "db_password", 1);
    SecretKey dataKey = DataKeys.newDataKey(random);
    byte[] sealed = SecretSeal.sealValue(dataKey, value, binding, random);
    sealed[14] ^= 1;

    PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
        () -> SecretSeal.openValue(dataKey, sealed, binding));
    assertEquals(RejectionReason.DECRYPT_FAILED, e.reason());
    assertTrue(e.getMessage().contains("web/db_password@1"), e.getMessage());
    assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
    PayloadRejectedException cut = assertThrows(PayloadRejectedException.class,
        () -> SecretSeal.openValue(dataKey, new byte[20], binding));
    assertEquals(RejectionReason.TRUNCATED, cut.reason());
  }

  /** Values over the limit and names with a newline are refused before sealing. */
  @Test
  void refusesOversizedValuesAndAmbiguousNames() {
    SecretKey dataKey = DataKeys.newDataKey(random);
    IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
        () -> SecretSeal.sealValue(dataKey, new byte[SecretSeal.MAX_VALUE_BYTES + 1], "b", random));
    assertTrue(big.getMessage().contains("65536"), big.getMessage());
    assertThrows(IllegalArgumentException.class, () -> SecretSeal.binding("web\nx", "a", 1));
  }

  private static byte[] bytes(int length, int seed) {
    byte[] out = new byte[length];
    for (int i = 0; i < length; i++) {
      out[i] = (byte) (seed * 31 + i);
    }
    return out;
  }
}
