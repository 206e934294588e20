package io.infraveil.controlplane;

import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The control plane's key for secrets at rest (host secrets, payload data keys): 32 random
 * bytes in {@code <data-dir>/master.key}, mode 0600, made on first start. Sealed values are
 * a 12-byte nonce followed by AES-256-GCM ciphertext and tag, bound to a context string.
 */
@Singleton
public final class MasterKey {

  private static final int NONCE_BYTES = 12;
  private final SecretKey key;
  private final SecureRandom random;

  public MasterKey(ControlPlaneSettings settings, SecureRandom random) {
    this.random = random;
    Path file = settings.dataDir().resolve("master.key");
    try {
      if (!Files.exists(file)) {
        byte[] fresh = new byte[32];
        random.nextBytes(fresh);
        Files.createDirectories(settings.dataDir());
        Path temp = Files.createTempFile(settings.dataDir(), ".master", ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(temp, fresh);
        Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length != 32) {
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
