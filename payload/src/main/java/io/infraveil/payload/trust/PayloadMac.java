package io.infraveil.payload.trust;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * HMAC-SHA256 with a host's MAC key over (deployment, sequence, sha256): proves the control
 * plane meant this payload for this host, as this version of this deployment. The encoding
 * is {@link PayloadStatement} with context {@value #CONTEXT}.
 */
public final class PayloadMac {

  public static final String CONTEXT = "infraveil/v1 payload-mac";
  public static final int LENGTH = 32;

  private PayloadMac() {}

  public static byte[] compute(byte[] macKey, String deployment, long sequence, String sha256Hex) {
    Objects.requireNonNull(macKey, "macKey");
    if (macKey.length != 32) {
      throw new IllegalArgumentException("macKey must be 32 bytes, got " + macKey.length);
    }
    return Hkdf.hmac(macKey)
        .doFinal(PayloadStatement.encode(CONTEXT, deployment, sequence, sha256Hex));
  }

  /** Throws MAC_MISMATCH unless {@code mac} matches; compares in constant time. */
  public static void verify(byte[] macKey, String deployment, long sequence, String sha256Hex,
      byte[] mac) throws PayloadRejectedException {
    Objects.requireNonNull(mac, "mac");
    byte[] expected = compute(macKey, deployment, sequence, sha256Hex);
    if (!MessageDigest.isEqual(expected, mac)) {
      throw new PayloadRejectedException(RejectionReason.MAC_MISMATCH,
          "host MAC does not match deployment '" + deployment + "' sequence " + sequence
              + " sha256 " + sha256Hex + ": not issued for this host, or altered on the way");
    }
  }
}
