package io.infraveil.cli.ctl;

import io.infraveil.cli.CliException;
import io.infraveil.payload.archive.PayloadArchive;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The archive {@code deploy} and {@code plan} work on: an application directory packed into a
 * temporary {@code .tar.gz} (removed on close), or a {@code .tar.gz} given as it is.
 */
record PackedPayload(Path archive, boolean temporary) implements AutoCloseable {

  static PackedPayload of(Path source, String tempPrefix) throws IOException {
    if (Files.isDirectory(source)) {
      Path archive = Files.createTempFile(tempPrefix, ".tar.gz");
      try (OutputStream out = Files.newOutputStream(archive)) {
        PayloadArchive.pack(source, out);
      } catch (IOException | RuntimeException e) {
        Files.deleteIfExists(archive);
        throw e;
      }
      return new PackedPayload(archive, true);
    }
    if (Files.isRegularFile(source)) {
      return new PackedPayload(source, false);
    }
    throw new CliException(source + " is neither a directory nor a .tar.gz file");
  }

  @Override
  public void close() throws IOException {
    if (temporary) {
      Files.deleteIfExists(archive);
    }
  }
}
