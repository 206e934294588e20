package io.infraveil.payload;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The one spelling of a payload hash: 64 lowercase hex characters. MACs, signatures and key
 * wraps cover these exact bytes, so a differently spelled hash must be refused, not fixed up.
 */
public final class Sha256Hex {

  private static final HexFormat HEX = HexFormat.of();

  private Sha256Hex() {}

  /** Returns {@code value} if it is 64 lowercase hex characters, else throws naming the field. */
  public static String requireValid(String value, String name) {
    if (value == null) {
      throw new NullPointerException(name);
    }
    if (value.length() != 64 || !value.chars().allMatch(Sha256Hex::isLowerHex)) {
      String shown = value.length() > 80 ? value.substring(0, 80) + "..." : value;
      throw new IllegalArgumentException(
          name + " must be a SHA-256 as 64 lowercase hex characters, got '" + shown + "'");
    }
    return value;
  }

  /** Lowercase hex of a digest. */
  public static String format(byte[] digest) {
    return HEX.formatHex(digest);
  }

  /** A fresh SHA-256 digest; every JDK has one. */
  public static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no SHA-256", e);
    }
  }

  private static boolean isLowerHex(int c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
}
