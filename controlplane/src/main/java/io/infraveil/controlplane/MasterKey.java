package io.infraveil.controlplane;

import io.infraveil.host.fs.AtomicFiles;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;

import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's key for secrets at rest (host secrets, payload and secret data keys): 32
 * random bytes in {@code infraveil.master-key-file} (default {@code <data-dir>/master.key}), mode
 * 0600, made on first start when missing and written durably (temp, fsync, rename, directory
 * fsync; a temp left by a crash is removed). Sealed values are a 12-byte nonce followed by
 * AES-256-GCM ciphertext and tag, bound to a context string.
 *
 * <p>Every control plane of an installation is given the same file; the database holds only the
 * key's fingerprint ({@link MasterKeyFingerprint}). During a rotation
 * {@code infraveil.master-key-rotation-file} names the other key: values it sealed still open,
 * but only this key seals (docs/high-availability.md, "The master key").
 */
@Singleton
public final class MasterKey {

  private static final Logger LOG = LoggerFactory.getLogger(MasterKey.class);
  static final String FILE_NAME = "master.key";
  private static final int KEY_BYTES = 32;
  private static final int NONCE_BYTES = 12;
  private static final String FINGERPRINT_LABEL = "infraveil master key fingerprint v1";
  private final SecretKey key;
  private final Path file;
  private final SecretKey rotationKey;
  private final Path rotationFile;
  private final SecureRandom random;

  public MasterKey(ControlPlaneSettings settings, SecureRandom random) {
    this(settings, random, "", "");
  }

  /**
   * @param keyFile the key file, or empty for {@code <data-dir>/master.key}
   * @param rotationFile the other key of a rotation (opened, never used to seal), or empty
   */
  @jakarta.inject.Inject
  public MasterKey(ControlPlaneSettings settings, SecureRandom random,
      @Value("${infraveil.master-key-file:}") String keyFile,
      @Value("${infraveil.master-key-rotation-file:}") String rotationFile) {
    this.random = random;
    this.file = keyFile == null || keyFile.isBlank() ? settings.dataDir().resolve(FILE_NAME)
        : Path.of(keyFile).toAbsolutePath();
    this.key = readOrCreate(file);
    if (rotationFile == null || rotationFile.isBlank()) {
      this.rotationFile = null;
      this.rotationKey = null;
    } else {
      this.rotationFile = Path.of(rotationFile).toAbsolutePath();
      if (!Files.isRegularFile(this.rotationFile)) {
        throw new IllegalStateException("infraveil.master-key-rotation-file " + this.rotationFile
            + " does not exist: it names the other key of a rotation, which must be a file of 32 bytes");
      }
      this.rotationKey = readOrCreate(this.rotationFile);
      if (java.security.MessageDigest.isEqual(key.getEncoded(), rotationKey.getEncoded())) {
        throw new IllegalStateException("infraveil.master-key-rotation-file " + this.rotationFile
            + " holds the same key as " + file + ": name the other key of the rotation, or remove the setting");
      }
    }
  }

  private SecretKey readOrCreate(Path file) {
    Path dir = file.toAbsolutePath().getParent();
    try {
      Files.createDirectories(dir);
      // A crash while the key was first written leaves a temp file: the key itself was never
      // renamed into place, so the temp is worthless ("master" matches the older writer's names).
      int stale = AtomicFiles.removeStaleTemps(dir, List.of(file.getFileName().toString(), "master"))
          .size();
      if (stale > 0) {
        LOG.warn("master_key_stale_temp_removed count={} dir={}", stale, dir);
      }
      if (!Files.exists(file)) {
        byte[] fresh = new byte[KEY_BYTES];
        random.nextBytes(fresh);
        AtomicFiles.write(file, fresh, PosixFilePermissions.fromString("rw-------"));
      }
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length != KEY_BYTES) {
        throw new IllegalStateException(file + " must hold 32 bytes, found " + bytes.length
            + ": restore it from backup; without it stored secrets cannot be read");
      }
      return new SecretKeySpec(bytes, "AES");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create " + file, e);
    }
  }

  /** The key file this control plane seals with. */
  public Path file() {
    return file;
  }

  /** The other key of a rotation, when one is configured. */
  public Optional<Path> rotationFile() {
    return Optional.ofNullable(rotationFile);
  }

  /** A fingerprint of the key (HMAC-SHA256 of a fixed label, hex): names it without revealing it. */
  public String fingerprint() {
    return fingerprint(key);
  }

  /** The fingerprint of the rotation's other key, when one is configured. */
  public Optional<String> rotationFingerprint() {
    return rotationKey == null ? Optional.empty() : Optional.of(fingerprint(rotationKey));
  }

  private static String fingerprint(SecretKey key) {
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
      return java.util.HexFormat.of().formatHex(
          mac.doFinal(FINGERPRINT_LABEL.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /**
   * Re-seals with this key a value that only the rotation's other key opens; empty when this key
   * opens it already. Throws when neither key opens it.
   */
  public Optional<byte[]> resealIfRotated(byte[] sealed, String context) {
    if (open(key, sealed, context).isPresent()) {
      return Optional.empty();
    }
    byte[] plain = rotationKey == null ? null : open(rotationKey, sealed, context).orElse(null);
    if (plain == null) {
      throw new IllegalStateException("a stored secret for " + context + " opens with neither " + file
          + (rotationFile == null ? "" : " nor " + rotationFile) + ": the key files are not this installation's");
    }
    try {
      return Optional.of(seal(plain, context));
    } finally {
      java.util.Arrays.fill(plain, (byte) 0);
    }
  }

  public byte[] seal(byte[] plaintext, String context) {
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
      cipher.updateAAD(context.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      byte[] sealed = cipher.doFinal(plaintext);
      return ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable", e);
    }
  }

  public byte[] open(byte[] sealed, String context) {
    Optional<byte[]> opened = open(key, sealed, context);
    if (opened.isEmpty() && rotationKey != null) {
      opened = open(rotationKey, sealed, context); // sealed before (or during) a rotation
    }
    return opened.orElseThrow(() -> new IllegalStateException("a stored secret for " + context
        + " does not open with the master key " + file + ": the key file was replaced or the database altered"));
  }

  private static Optional<byte[]> open(SecretKey key, byte[] sealed, String context) {
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, sealed, 0, NONCE_BYTES));
      cipher.updateAAD(context.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return Optional.of(cipher.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES));
    } catch (javax.crypto.AEADBadTagException e) {
      return Optional.empty();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable", e);
    }
  }
}
