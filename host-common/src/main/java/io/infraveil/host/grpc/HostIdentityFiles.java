package io.infraveil.host.grpc;

import io.infraveil.certs.JdkPem;
import io.infraveil.certs.KeyMatch;
import io.infraveil.certs.Pem;
import io.infraveil.host.fs.AtomicFiles;
import io.infraveil.host.fs.JsonFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The host identity directory, {@code DATA/identity}: a contract between the launcher (which
 * writes it at enrollment) and the agent (which reads it to talk to the control plane).
 *
 * <pre>
 * identity/ca.crt       CA bundle the host trusts (PEM)
 * identity/host.crt     the host certificate (PEM)
 * identity/host.key     the host's private key (PKCS#8 PEM, 0600), written before anything else
 * identity/host_secret  32 raw bytes (0600): payload MAC and key-wrapping secret
 * identity/host.json    {name, controlPlane "host:port", trustDomain}
 * identity/host.crt.next, host.key.next   a renewed pair while it is being put in place
 * </pre>
 *
 * <p>Renewal writes the new pair beside the old one, then renames the certificate and then the
 * key into place. A crash in between leaves a certificate that does not match the key;
 * {@link #recoverRotation()} finishes the job at the next start, and clients keep presenting
 * the last matching pair meanwhile.
 */
public final class HostIdentityFiles {

  public static final String DIR = "identity";
  public static final int HOST_SECRET_BYTES = 32;

  /** What {@code host.json} holds. */
  public record HostInfo(String name, String controlPlane, String trustDomain) {
    public HostInfo {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(controlPlane, "controlPlane");
      Objects.requireNonNull(trustDomain, "trustDomain");
    }
  }

  private final Path dir;

  public HostIdentityFiles(Path dir) {
    this.dir = Objects.requireNonNull(dir, "dir");
  }

  /** The identity directory under a host data dir. */
  public static HostIdentityFiles inDataDir(Path dataDir) {
    return new HostIdentityFiles(dataDir.resolve(DIR));
  }

  public Path dir() {
    return dir;
  }

  public Path caFile() {
    return dir.resolve("ca.crt");
  }

  public Path certificateFile() {
    return dir.resolve("host.crt");
  }

  public Path keyFile() {
    return dir.resolve("host.key");
  }

  public Path secretFile() {
    return dir.resolve("host_secret");
  }

  public Path hostInfoFile() {
    return dir.resolve("host.json");
  }

  public Path nextCertificateFile() {
    return dir.resolve("host.crt.next");
  }

  public Path nextKeyFile() {
    return dir.resolve("host.key.next");
  }

  /** Puts a renewed key and certificate in place: next files first, then two renames. */
  public void installRenewed(PrivateKey key, String certificatePem) throws IOException {
    writeSecretPem(nextKeyFile(), Pem.encode(key));
    writePublicPem(nextCertificateFile(), certificatePem);
    AtomicFiles.moveDurably(nextCertificateFile(), certificateFile());
    AtomicFiles.moveDurably(nextKeyFile(), keyFile());
  }

  /**
   * Finishes or discards a renewal that a crash interrupted, so the certificate and key match
   * again. Returns what it did, for the log.
   */
  public String recoverRotation() throws IOException {
    if (!Files.exists(nextKeyFile())) {
      Files.deleteIfExists(nextCertificateFile());
      return "NOTHING_PENDING";
    }
    PrivateKey nextKey = Pem.readPrivateKey(nextKeyFile());
    if (Files.exists(nextCertificateFile())
        && KeyMatch.matches(nextKey, Pem.readCertificate(nextCertificateFile()))) {
      AtomicFiles.moveDurably(nextCertificateFile(), certificateFile());
      AtomicFiles.moveDurably(nextKeyFile(), keyFile());
      return "COMPLETED_BOTH";
    }
    if (KeyMatch.matches(nextKey, Pem.readCertificate(certificateFile()))) {
      AtomicFiles.moveDurably(nextKeyFile(), keyFile());
      Files.deleteIfExists(nextCertificateFile());
      return "COMPLETED_KEY";
    }
    // The renewed certificate never arrived: the old pair is still whole.
    Files.deleteIfExists(nextKeyFile());
    Files.deleteIfExists(nextCertificateFile());
    return "DISCARDED";
  }

  /** True when every file of an enrolled host is present; enrollment is then skipped. */
  public boolean isComplete() {
    return List.of(caFile(), certificateFile(), keyFile(), secretFile(), hostInfoFile())
        .stream().allMatch(Files::isRegularFile);
  }

  /** Writes the private key (0600). Called first, before anything leaves the host. */
  public void writeKey(PrivateKey key) throws IOException {
    writeSecretPem(keyFile(), Pem.encode(key));
  }

  public PrivateKey readKey() throws IOException {
    return JdkPem.privateKeyOrPem(keyFile());
  }

  /** Writes the certificate and CA bundle (0644). */
  public void writeCertificates(String certificatePem, String caBundlePem) throws IOException {
    writePublicPem(caFile(), caBundlePem);
    writePublicPem(certificateFile(), certificatePem);
  }

  /** Writes the 32-byte host secret, created 0600 before any byte lands. */
  public void writeSecret(byte[] secret) throws IOException {
    if (secret.length != HOST_SECRET_BYTES) {
      throw new IllegalArgumentException("host secret must be " + HOST_SECRET_BYTES
          + " bytes, got " + secret.length);
    }
    AtomicFiles.write(secretFile(), secret, PosixFilePermissions.fromString("rw-------"));
  }

  public byte[] readSecret() throws IOException {
    byte[] secret = Files.readAllBytes(secretFile());
    if (secret.length != HOST_SECRET_BYTES) {
      throw new IOException(secretFile() + " holds " + secret.length + " bytes, expected "
          + HOST_SECRET_BYTES);
    }
    return secret;
  }

  /** Writes host.json last: its presence marks a finished enrollment. */
  public void writeHostInfo(HostInfo info) throws IOException {
    JsonFiles.write(hostInfoFile(), info);
  }

  /**
   * Removes temp files that a crash left while one of the identity files was being written.
   * Called at launcher start, before anything is written here.
   */
  public List<Path> removeStaleTemps() throws IOException {
    return AtomicFiles.removeStaleTemps(dir, List.of(caFile(), certificateFile(), keyFile(),
            secretFile(), hostInfoFile(), nextCertificateFile(), nextKeyFile()).stream()
        .map(f -> f.getFileName().toString()).toList());
  }

  /** A private key: temp file created 0600 before any byte lands, fsync, rename, fsync dir. */
  private static void writeSecretPem(Path file, String pem) throws IOException {
    AtomicFiles.write(file, pem.getBytes(StandardCharsets.US_ASCII),
        PosixFilePermissions.fromString("rw-------"));
  }

  private static void writePublicPem(Path file, String pem) throws IOException {
    AtomicFiles.write(file, pem.getBytes(StandardCharsets.US_ASCII),
        PosixFilePermissions.fromString("rw-r--r--"));
  }

  public Optional<HostInfo> readHostInfo() throws IOException {
    return JsonFiles.read(hostInfoFile(), HostInfo.class);
  }
}
