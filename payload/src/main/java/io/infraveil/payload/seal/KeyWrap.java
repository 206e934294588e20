package io.infraveil.payload.seal;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.Sha256Hex;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Wraps a payload's data key under a 32-byte key: the control plane's master key at rest, a
 * host's wrap key in transit. The wrapped form is {@code nonce(12) || AES-256-GCM(dataKey) ||
 * tag(16)} with the payload's sha256 hex as associated data, so a wrapped key only unwraps
 * for the payload it was made for.
 */
public final class KeyWrap {

  public static final int WRAPPED_LENGTH = 12 + 32 + 16;

  private KeyWrap() {}

  public static byte[] wrap(byte[] wrapKey, SecretKey dataKey, String sha256Hex,
      SecureRandom random) {
    SecretKey kek = kek(wrapKey);
    RecordFormat.checkDataKey(dataKey);
    Sha256Hex.requireValid(sha256Hex, "sha256Hex");
    Objects.requireNonNull(random, "random");
    byte[] raw = dataKey.getEncoded();
    if (raw == null) {
      throw new IllegalArgumentException("dataKey cannot be exported for wrapping");
    }
    byte[] wrapped = new byte[WRAPPED_LENGTH];
    byte[] nonce = new byte[12];
    random.nextBytes(nonce);
    System.arraycopy(nonce, 0, wrapped, 0, 12);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, kek, new GCMParameterSpec(128, nonce));
      cipher.updateAAD(sha256Hex.getBytes(US_ASCII));
      cipher.doFinal(raw, 0, raw.length, wrapped, 12);
      return wrapped;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM key wrap failed", e);
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }

  /** Recovers the data key; KEY_UNWRAP_FAILED if the wrap is damaged, foreign or for another hash. */
  public static SecretKey unwrap(byte[] wrapKey, byte[] wrapped, String sha256Hex)
      throws PayloadRejectedException {
    SecretKey kek = kek(wrapKey);
    Objects.requireNonNull(wrapped, "wrapped");
    Sha256Hex.requireValid(sha256Hex, "sha256Hex");
    if (wrapped.length != WRAPPED_LENGTH) {
      throw new PayloadRejectedException(RejectionReason.KEY_UNWRAP_FAILED,
          "wrapped data key is " + wrapped.length + " bytes, expected " + WRAPPED_LENGTH);
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, kek, new GCMParameterSpec(128, wrapped, 0, 12));
      cipher.updateAAD(sha256Hex.getBytes(US_ASCII));
      byte[] raw = cipher.doFinal(wrapped, 12, wrapped.length - 12);
      try {
        return new SecretKeySpec(raw, "AES");
      } finally {
        Arrays.fill(raw, (byte) 0);
      }
    } catch (AEADBadTagException e) {
      throw new PayloadRejectedException(RejectionReason.KEY_UNWRAP_FAILED,
          "wrapped data key does not open for sha256 " + sha256Hex
              + ": wrapped for another key or payload, or altered", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM key unwrap failed", e);
    }
  }

  private static SecretKey kek(byte[] wrapKey) {
    Objects.requireNonNull(wrapKey, "wrapKey");
    if (wrapKey.length != 32) {
      throw new IllegalArgumentException("wrapKey must be 32 bytes, got " + wrapKey.length);
    }
    return new SecretKeySpec(wrapKey, "AES");
  }
}
