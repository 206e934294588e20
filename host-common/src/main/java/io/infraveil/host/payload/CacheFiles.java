package io.infraveil.host.payload;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * How the cache opens files it writes payload bytes into. A seam so tests can fill the disk
 * (an implementation that throws {@code IOException("No space left on device")}) without a
 * real full disk; production uses {@link #DEFAULT}.
 */
public interface CacheFiles {

  /** Opens {@code file} for appending, creating it when missing. */
  OutputStream openForAppend(Path file) throws IOException;

  /** Opens {@code file} for writing from the start, creating or truncating it. */
  OutputStream create(Path file) throws IOException;

  /** Plain files on the default file system. */
  CacheFiles DEFAULT = new CacheFiles() {
    @Override
    public OutputStream openForAppend(Path file) throws IOException {
      return Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.APPEND);
    }

    @Override
    public OutputStream create(Path file) throws IOException {
      return Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING);
    }
  };
}
