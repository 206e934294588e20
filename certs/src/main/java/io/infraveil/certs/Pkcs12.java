package io.infraveil.certs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;

/**
 * PKCS#12 bundles of a key and its certificate chain, for browsers and keychains that import
 * client certificates. Written with the JDK's PKCS12 key store (PBES2 with AES-256 and
 * PBKDF2-SHA256), mode 0600 from the first byte.
 */
public final class Pkcs12 {

  private Pkcs12() {}

  /** A password of 18 random bytes, URL-safe base64 (24 characters). */
  public static char[] randomPassword(SecureRandom random) {
    byte[] bytes = new byte[18];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes).toCharArray();
  }

  /** Writes {@code key} with {@code chain} (leaf first) under {@code alias}, mode 0600. */
  public static void write(Path file, String alias, PrivateKey key, List<X509Certificate> chain, char[] password)
      throws IOException {
    byte[] bytes;
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(alias, key, password, chain.toArray(new X509Certificate[0]));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      store.store(out, password);
      bytes = out.toByteArray();
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot build the PKCS#12 bundle " + file + ": " + e.getMessage(), e);
    }
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path temp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.write(temp, bytes);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
