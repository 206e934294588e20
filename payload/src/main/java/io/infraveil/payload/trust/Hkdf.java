package io.infraveil.payload.trust;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HKDF with HMAC-SHA256 (RFC 5869); small enough to own rather than add a dependency. */
final class Hkdf {

  static final int HASH_LENGTH = 32;

  private Hkdf() {}

  static byte[] derive(byte[] salt, byte[] ikm, byte[] info, int length) {
    return expand(extract(salt, ikm), info, length);
  }

  /** PRK = HMAC(salt, IKM); an empty salt means HashLen zero bytes, as the RFC says. */
  static byte[] extract(byte[] salt, byte[] ikm) {
    Objects.requireNonNull(salt, "salt");
    Objects.requireNonNull(ikm, "ikm");
    Mac mac = hmac(salt.length == 0 ? new byte[HASH_LENGTH] : salt);
    return mac.doFinal(ikm);
  }

  /** OKM = T(1) || T(2) || ... cut to {@code length}; T(i) = HMAC(PRK, T(i-1) || info || i). */
  static byte[] expand(byte[] prk, byte[] info, int length) {
    Objects.requireNonNull(prk, "prk");
    Objects.requireNonNull(info, "info");
    if (length < 1 || length > 255 * HASH_LENGTH) {
      throw new IllegalArgumentException(
          "HKDF output length must be between 1 and " + 255 * HASH_LENGTH + ", got " + length);
    }
    Mac mac = hmac(prk);
    byte[] okm = new byte[length];
    byte[] t = new byte[0];
    for (int i = 1, done = 0; done < length; i++) {
      mac.update(t);
      mac.update(info);
      mac.update((byte) i);
      t = mac.doFinal();
      int n = Math.min(t.length, length - done);
      System.arraycopy(t, 0, okm, done, n);
      done += n;
    }
    Arrays.fill(t, (byte) 0);
    return okm;
  }

  static Mac hmac(byte[] key) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable or refused the key", e);
    }
  }
}
