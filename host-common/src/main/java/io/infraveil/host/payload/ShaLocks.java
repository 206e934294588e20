package io.infraveil.host.payload;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock per lock file: a JVM-wide {@link ReentrantLock} (a launcher and an agent in one JVM
 * wait for each other; {@link FileLock}s cannot tell threads of one JVM apart) and then a
 * non-blocking {@link FileChannel#tryLock} for other processes. Lock files are never deleted:
 * deleting one while another process waits on it would split the lock in two.
 */
final class ShaLocks {

  /** Keyed by absolute lock-file path; one small lock per payload ever seen, kept for life. */
  private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

  private ShaLocks() {}

  /** A held lock; closing releases both levels. */
  static final class Held implements AutoCloseable {
    private final ReentrantLock jvmLock;
    private final FileChannel channel;
    private final FileLock fileLock;

    private Held(ReentrantLock jvmLock, FileChannel channel, FileLock fileLock) {
      this.jvmLock = jvmLock;
      this.channel = channel;
      this.fileLock = fileLock;
    }

    @Override
    public void close() throws IOException {
      try {
        fileLock.release();
        channel.close();
      } finally {
        jvmLock.unlock();
      }
    }
  }

  /**
   * Waits for other threads of this JVM, then tries the file lock once. Empty when another
   * process holds it (or, with {@code waitInJvm} false, another thread does).
   */
  static Optional<Held> acquire(Path lockFile, boolean waitInJvm)
      throws IOException, InterruptedException {
    ReentrantLock jvmLock = LOCKS.computeIfAbsent(lockFile.toAbsolutePath(),
        p -> new ReentrantLock());
    if (waitInJvm) {
      jvmLock.lockInterruptibly();
    } else if (!jvmLock.tryLock()) {
      return Optional.empty();
    }
    FileChannel channel = null;
    try {
      Files.createDirectories(lockFile.toAbsolutePath().getParent());
      channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock fileLock = channel.tryLock();
      if (fileLock == null) {
        channel.close();
        jvmLock.unlock();
        return Optional.empty();
      }
      return Optional.of(new Held(jvmLock, channel, fileLock));
    } catch (IOException | RuntimeException e) {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      jvmLock.unlock();
      throw e;
    }
  }
}
