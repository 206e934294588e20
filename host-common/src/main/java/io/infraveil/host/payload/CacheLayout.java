package io.infraveil.host.payload;

import io.infraveil.payload.Sha256Hex;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where payload files live under a host data dir (see the package docs for the tree). Every
 * method that takes a hash checks its spelling first, so a hash can never name a path
 * outside the cache.
 */
public record CacheLayout(Path dataDir) {

  public static final String CIPHERTEXT = "payload.enc";
  public static final String HEADER = "header.pb";

  private static final Pattern PLAIN_NAME = Pattern.compile("[a-z0-9]([a-z0-9._-]{0,98}[a-z0-9])?");

  public CacheLayout {
    Objects.requireNonNull(dataDir, "dataDir");
    dataDir = dataDir.toAbsolutePath();
  }

  public Path cacheDir() {
    return dataDir.resolve("cache");
  }

  public Path partialDir() {
    return cacheDir().resolve(".partial");
  }

  /** The verified entry; exists only when complete. */
  public Path entryDir(String sha256) {
    return cacheDir().resolve(Sha256Hex.requireValid(sha256, "sha256"));
  }

  public Path partialCiphertext(String sha256) {
    return partialDir().resolve(Sha256Hex.requireValid(sha256, "sha256") + ".enc.part");
  }

  public Path partialHeader(String sha256) {
    return partialDir().resolve(Sha256Hex.requireValid(sha256, "sha256") + ".header.pb");
  }

  public Path assemblyDir(String sha256) {
    return partialDir().resolve(Sha256Hex.requireValid(sha256, "sha256") + ".tmpdir");
  }

  public Path lockFile(String sha256) {
    return partialDir().resolve(Sha256Hex.requireValid(sha256, "sha256") + ".lock");
  }

  public Path sequencesFile() {
    return cacheDir().resolve("sequences.json");
  }

  public Path publishersFile() {
    return dataDir.resolve("identity").resolve("publishers.pem");
  }

  /**
   * File name of the header kept for another deployment or sequence of the same bytes. A
   * deployment name other than lowercase letters, digits, '.', '_' and inner '-' is hex-encoded so the name stays one plain
   * path segment whatever the control plane sends.
   */
  public static String headerFileName(String deployment, long sequence) {
    Objects.requireNonNull(deployment, "deployment");
    String safe = PLAIN_NAME.matcher(deployment).matches()
        ? deployment
        : "x" + HexFormat.of().formatHex(deployment.getBytes(StandardCharsets.UTF_8));
    return "header-" + safe + "-" + sequence + ".pb";
  }
}
