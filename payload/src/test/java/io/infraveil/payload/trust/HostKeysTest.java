package io.infraveil.payload.trust;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class HostKeysTest {

  private static final byte[] SECRET = new byte[32];

  static {
    Arrays.fill(SECRET, (byte) 0x42);
  }

  // Both sides derive independently; pin the derivation so they cannot drift apart.
  @Test
  void derivesKeysWithDocumentedSaltAndInfo() {
    HostKeys keys = HostKeys.fromSecret(SECRET);

    assertArrayEquals(Hkdf.derive(new byte[32], SECRET,
        "infraveil/v1 payload-mac".getBytes(), 32), keys.macKey());
    assertArrayEquals(Hkdf.derive(new byte[32], SECRET,
        "infraveil/v1 key-wrap".getBytes(), 32), keys.wrapKey());
    assertFalse(Arrays.equals(keys.macKey(), keys.wrapKey()));
  }

  @Test
  void sameSecretGivesSameKeys() {
    assertArrayEquals(HostKeys.fromSecret(SECRET).macKey(), HostKeys.fromSecret(SECRET.clone()).macKey());
  }

  @Test
  void toStringRevealsNoKeyMaterial() {
    HostKeys keys = HostKeys.fromSecret(SECRET);
    String text = keys.toString();

    assertEquals("HostKeys[redacted]", text);
    assertFalse(text.contains(HexFormat.of().formatHex(keys.macKey())));
  }

  @Test
  void fromSecretRefusesShortSecret() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> HostKeys.fromSecret(new byte[16]));
    assertTrue(e.getMessage().contains("host secret must be 32 bytes, got 16"), e.getMessage());
  }

  @Test
  void newSecretIs32FreshBytes() {
    SecureRandom random = new SecureRandom();
    byte[] a = HostKeys.newSecret(random);
    byte[] b = HostKeys.newSecret(random);

    assertEquals(32, a.length);
    assertFalse(Arrays.equals(a, b));
  }
}
