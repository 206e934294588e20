package io.infraveil.payload.secret;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.Sha256Hex;
import io.infraveil.payload.seal.KeyWrap;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Seals one secret version the way payloads are sealed: a fresh AES-256 data key per version
 * encrypts the value ({@code nonce(12) || AES-256-GCM || tag(16)}), and the data key is wrapped
 * with {@link KeyWrap} under the control plane's master key at rest and a host's wrap key in
 * transit. Both are bound to the secret's binding (deployment, name, version), so a sealed
 * value or a wrapped key never opens as another secret or another version.
 */
public final class SecretSeal {

  /** Largest value accepted. */
  public static final int MAX_VALUE_BYTES = 64 * 1024;

  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  private SecretSeal() {}

  /**
   * The text a secret version is bound to. Deployment and secret names cannot hold a newline,
   * so two different secrets never share a binding.
   */
  public static String binding(String deployment, String name, long version) {
    Objects.requireNonNull(deployment, "deployment");
    Objects.requireNonNull(name, "name");
    if (deployment.indexOf('\n') >= 0 || name.indexOf('\n') >= 0) {
      throw new IllegalArgumentException("deployment and secret names cannot contain a newline");
    }
    return "infraveil/v1 secret\n" + deployment + "\n" + name + "\n" + version;
  }

  /** Encrypts {@code value} under {@code dataKey} with the binding as associated data. */
  public static byte[] sealValue(SecretKey dataKey, byte[] value, String binding,
      SecureRandom random) {
    checkDataKey(dataKey);
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(binding, "binding");
    if (value.length > MAX_VALUE_BYTES) {
      throw new IllegalArgumentException("a secret value is at most " + MAX_VALUE_BYTES
          + " bytes, got " + value.length);
    }
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, dataKey, new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(binding.getBytes(UTF_8));
      byte[] sealed = new byte[NONCE_BYTES + value.length + TAG_BITS / 8];
      System.arraycopy(nonce, 0, sealed, 0, NONCE_BYTES);
      cipher.doFinal(value, 0, value.length, sealed, NONCE_BYTES);
      return sealed;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable", e);
    }
  }

  /** Decrypts a sealed value; DECRYPT_FAILED when it was altered or sealed for another binding. */
  public static byte[] openValue(SecretKey dataKey, byte[] sealed, String binding)
      throws PayloadRejectedException {
    checkDataKey(dataKey);
    Objects.requireNonNull(sealed, "sealed");
    Objects.requireNonNull(binding, "binding");
    if (sealed.length < NONCE_BYTES + TAG_BITS / 8) {
      throw new PayloadRejectedException(RejectionReason.TRUNCATED, "sealed secret is "
          + sealed.length + " bytes, shorter than a nonce and a tag");
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, dataKey, new GCMParameterSpec(TAG_BITS, sealed, 0,
          NONCE_BYTES));
      cipher.updateAAD(binding.getBytes(UTF_8));
      return cipher.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
    } catch (AEADBadTagException e) {
      throw new PayloadRejectedException(RejectionReason.DECRYPT_FAILED,
          "sealed secret does not open for " + describe(binding)
              + ": altered, or sealed for another secret or version", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable", e);
    }
  }

  /** Wraps the data key under a 32-byte key (master or host wrap key), bound to the binding. */
  public static byte[] wrapKey(byte[] wrapKey, SecretKey dataKey, String binding,
      SecureRandom random) {
    return KeyWrap.wrap(wrapKey, dataKey, bindingHash(binding), random);
  }

  /** Recovers a data key wrapped by {@link #wrapKey}; KEY_UNWRAP_FAILED for any other binding. */
  public static SecretKey unwrapKey(byte[] wrapKey, byte[] wrapped, String binding)
      throws PayloadRejectedException {
    return KeyWrap.unwrap(wrapKey, wrapped, bindingHash(binding));
  }

  /** Host side in one step: unwrap with the host's wrap key, then open the value. */
  public static byte[] open(byte[] hostWrapKey, byte[] wrapped, byte[] sealed, String binding)
      throws PayloadRejectedException {
    return openValue(unwrapKey(hostWrapKey, wrapped, binding), sealed, binding);
  }

  private static void checkDataKey(SecretKey dataKey) {
    Objects.requireNonNull(dataKey, "dataKey");
    byte[] raw = dataKey.getEncoded();
    if (!"AES".equalsIgnoreCase(dataKey.getAlgorithm()) || raw == null || raw.length != 32) {
      throw new IllegalArgumentException("a secret's data key must be a 32-byte AES key");
    }
    java.util.Arrays.fill(raw, (byte) 0);
  }

  private static String bindingHash(String binding) {
    return Sha256Hex.format(Sha256Hex.newDigest().digest(binding.getBytes(UTF_8)));
  }

  /** The binding without its fixed prefix, for messages: deployment/name@version. */
  private static String describe(String binding) {
    String[] parts = binding.split("\n", -1);
    return parts.length == 4 ? parts[1] + "/" + parts[2] + "@" + parts[3] : "this secret";
  }
}
