package io.infraveil.controlplane.payloads;

import io.infraveil.controlplane.ControlPlaneSettings;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where payload bytes live in the data dir: ciphertext by hash, uploads while in flight. At
 * start, whatever a killed upload left (spool files, sealing temp files) is removed.
 */
@Singleton
public final class PayloadFiles {

  private final Path payloads;
  private final Path uploads;

  public PayloadFiles(ControlPlaneSettings settings) {
    this.payloads = settings.dataDir().resolve("payloads");
    this.uploads = settings.dataDir().resolve("uploads");
    try {
      Files.createDirectories(payloads);
      Files.createDirectories(uploads);
      // An upload interrupted by a crash leaves a spool file; it is never resumed.
      try (var stale = Files.list(uploads)) {
        for (Path file : stale.toList()) {
          Files.deleteIfExists(file);
        }
      }
      // A crash while sealing leaves ".<sha256>.*.tmp" beside the payloads: never renamed, never
      // used. The control plane alone writes here, so every temp file is stale at start.
      try (var stale = Files.newDirectoryStream(payloads, ".*.tmp")) {
        for (Path file : stale) {
          Files.deleteIfExists(file);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare payload directories in " + settings.dataDir(), e);
    }
  }

  public Path ciphertext(String sha256) {
    return payloads.resolve(sha256 + ".enc");
  }

  public Path payloadsDir() {
    return payloads;
  }

  public Path uploadsDir() {
    return uploads;
  }
}
