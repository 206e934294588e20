package io.infraveil.certs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * A client key manager that follows a certificate and key on disk: after a renewal rewrites
 * them, the next handshake presents the new pair, with no channel rebuilt and no restart. A
 * pair caught mid-rotation (key and certificate that do not match) is ignored and the last
 * good pair kept.
 */
public final class ReloadingKeyManager extends ClientIdentityKeyManager {

  private static final long CHECK_EVERY_NANOS = 1_000_000_000L;

  private record Loaded(List<X509Certificate> chain, PrivateKey key, FileTime certTime, FileTime keyTime) {}

  private final Path certFile;
  private final Path keyFile;
  private volatile Loaded loaded;
  private volatile long lastCheck;

  public ReloadingKeyManager(Path certFile, Path keyFile) throws IOException {
    this.certFile = Objects.requireNonNull(certFile, "certFile");
    this.keyFile = Objects.requireNonNull(keyFile, "keyFile");
    this.loaded = load();
    if (this.loaded == null) {
      throw new IOException(certFile + " and " + keyFile + " do not belong together: the key does "
          + "not match the certificate's public key");
    }
    this.lastCheck = System.nanoTime();
  }

  /** The certificate currently presented. */
  public X509Certificate certificate() {
    return current().chain().get(0);
  }

  private Loaded current() {
    long now = System.nanoTime();
    if (now - lastCheck >= CHECK_EVERY_NANOS) {
      lastCheck = now;
      try {
        Loaded old = loaded;
        if (!Files.getLastModifiedTime(certFile).equals(old.certTime())
            || !Files.getLastModifiedTime(keyFile).equals(old.keyTime())) {
          Loaded fresh = load();
          if (fresh != null) {
            loaded = fresh;
          }
        }
      } catch (IOException | RuntimeException e) {
        // Mid-rotation or briefly missing: keep presenting the last good pair.
      }
    }
    return loaded;
  }

  private Loaded load() throws IOException {
    try {
      FileTime certTime = Files.getLastModifiedTime(certFile);
      FileTime keyTime = Files.getLastModifiedTime(keyFile);
      List<X509Certificate> chain = JdkPem.certificatesOrPem(certFile);
      PrivateKey key = JdkPem.privateKeyOrPem(keyFile);
      return KeyMatch.matches(key, chain.get(0)) ? new Loaded(chain, key, certTime, keyTime) : null;
    } catch (IllegalArgumentException e) {
      throw new UncheckedIOException(new IOException("cannot read " + certFile + " / " + keyFile, e));
    }
  }

  @Override
  X509Certificate[] chain() {
    return current().chain().toArray(X509Certificate[]::new);
  }

  @Override
  PrivateKey key() {
    return current().key();
  }
}
