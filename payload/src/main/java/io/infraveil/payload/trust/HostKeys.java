package io.infraveil.payload.trust;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.security.SecureRandom;
import java.util.Objects;

/**
 * The two keys a host derives from its 32-byte secret: one to check payload MACs, one to
 * unwrap payload data keys. Separate keys (HKDF with distinct info strings) so that neither
 * use can be turned against the other.
 */
public final class HostKeys {

  public static final int SECRET_LENGTH = 32;
  static final byte[] SALT = new byte[32];
  static final byte[] MAC_INFO = "infraveil/v1 payload-mac".getBytes(US_ASCII);
  static final byte[] WRAP_INFO = "infraveil/v1 key-wrap".getBytes(US_ASCII);

  private final byte[] macKey;
  private final byte[] wrapKey;

  private HostKeys(byte[] macKey, byte[] wrapKey) {
    this.macKey = Objects.requireNonNull(macKey, "macKey");
    this.wrapKey = Objects.requireNonNull(wrapKey, "wrapKey");
  }

  /** Derives both keys; the same secret always gives the same keys. */
  public static HostKeys fromSecret(byte[] hostSecret) {
    Objects.requireNonNull(hostSecret, "hostSecret");
    if (hostSecret.length != SECRET_LENGTH) {
      throw new IllegalArgumentException("host secret must be " + SECRET_LENGTH
          + " bytes, got " + hostSecret.length);
    }
    return new HostKeys(
        Hkdf.derive(SALT, hostSecret, MAC_INFO, 32),
        Hkdf.derive(SALT, hostSecret, WRAP_INFO, 32));
  }

  /** A new host secret; cryptographic randomness only, hence SecureRandom. */
  public static byte[] newSecret(SecureRandom random) {
    Objects.requireNonNull(random, "random");
    byte[] secret = new byte[SECRET_LENGTH];
    random.nextBytes(secret);
    return secret;
  }

  /** Key for {@link PayloadMac}; a copy. */
  public byte[] macKey() {
    return macKey.clone();
  }

  /** Key for {@code KeyWrap} of data keys sent to this host; a copy. */
  public byte[] wrapKey() {
    return wrapKey.clone();
  }

  /** Never prints key material: keys must not reach logs. */
  @Override
  public String toString() {
    return "HostKeys[redacted]";
  }
}
