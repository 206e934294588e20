package io.infraveil.controlplane;

import io.infraveil.host.fs.AtomicFiles;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

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
 * The control plane's key for secrets at rest (host secrets, payload data keys): 32 random
 * bytes in {@code <data-dir>/master.key}, mode 0600, made on first start and written durably
 * (temp, fsync, rename, directory fsync; a temp left by a crash is removed). Sealed values are
 * a 12-byte nonce followed by AES-256-GCM ciphertext and tag, bound to a context string.
 */
@Singleton
public final class MasterKey {

  private static final Logger LOG = LoggerFactory.getLogger(MasterKey.class);
  static final String FILE_NAME = "master.key";
  private static final int KEY_BYTES = 32;
  private static final int NONCE_BYTES = 12;
  private final SecretKey key;
  private final SecureRandom random;

  public MasterKey(ControlPlaneSettings settings, SecureRandom random) {
    this.random = random;
    Path file = settings.dataDir().resolve(FILE_NAME);
    try {
      Files.createDirectories(settings.dataDir());
      // A crash while the key was first written leaves a temp file: the key itself was never
      // renamed into place, so the temp is worthless ("master" matches the older writer's names).
      int stale = AtomicFiles.removeStaleTemps(settings.dataDir(), List.of(FILE_NAME, "master"))
          .size();
      if (stale > 0) {
        LOG.warn("master_key_stale_temp_removed count={} dir={}", stale, settings.dataDir());
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
      this.key = new SecretKeySpec(bytes, "AES");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create " + file, e);
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
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, sealed, 0, NONCE_BYTES));
      cipher.updateAAD(context.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return cipher.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("a stored secret for " + context
          + " does not open with master.key: the key file was replaced or the database altered", e);
    }
  }
}
