package io.infraveil.agent;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Rotates a log file by copy and truncate once it is over {@code maxBytes}: {@code f.log} is
 * copied to {@code f.log.1} (older copies shift to {@code .2} ... {@code .keep}, the oldest is
 * deleted) and then truncated to zero. Safe because the service holds the file open with
 * O_APPEND: its next write lands at the new end. Lines written between the copy and the
 * truncation are lost; that is the price of not signalling the service.
 */
public final class LogRotator {

  private final long maxBytes;
  private final int keep;

  public LogRotator(long maxBytes, int keep) {
    if (maxBytes < 1 || keep < 1) {
      throw new IllegalArgumentException("maxBytes and keep must be >= 1, got " + maxBytes
          + ", " + keep);
    }
    this.maxBytes = maxBytes;
    this.keep = keep;
  }

  /** Rotates {@code file} if it is over the limit; returns true when it did. */
  public boolean rotateIfNeeded(Path file) throws IOException {
    if (!Files.exists(file) || Files.size(file) <= maxBytes) {
      return false;
    }
    Files.deleteIfExists(numbered(file, keep));
    for (int i = keep - 1; i >= 1; i--) {
      Path from = numbered(file, i);
      if (Files.exists(from)) {
        Files.move(from, numbered(file, i + 1), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Files.copy(file, numbered(file, 1), StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(0);
    }
    return true;
  }

  static Path numbered(Path file, int index) {
    return file.resolveSibling(file.getFileName() + "." + index);
  }
}
