package io.infraveil.controlplane.payloads;

import io.infraveil.controlplane.ControlPlaneSettings;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This control plane's scratch space for uploads in flight (the spool, in the data dir); payload
 * ciphertext itself lives in the database. At start, spool files a killed upload left are
 * removed.
 */
@Singleton
public final class PayloadFiles {

  private final Path uploads;

  public PayloadFiles(ControlPlaneSettings settings) {
    this.uploads = settings.dataDir().resolve("uploads");
    try {
      Files.createDirectories(uploads);
      // An upload interrupted by a crash leaves a spool file; it is never resumed.
      try (var stale = Files.list(uploads)) {
        for (Path file : stale.toList()) {
          Files.deleteIfExists(file);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the upload spool in " + settings.dataDir(), e);
    }
  }

  public Path uploadsDir() {
    return uploads;
  }
}
