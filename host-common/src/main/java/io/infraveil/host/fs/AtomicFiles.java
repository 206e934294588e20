package io.infraveil.host.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Writes files so that a crash or power cut at any moment leaves either the old content or
 * the new content, never a mix: temp file in the same directory, fsync, rename, fsync the
 * directory. Readers never see a half-written file.
 */
public final class AtomicFiles {

  private AtomicFiles() {}

  /** Replaces {@code target} with {@code content}; does nothing if the content is unchanged. */
  public static boolean writeIfChanged(Path target, byte[] content) throws IOException {
    if (Files.isRegularFile(target) && Arrays.equals(Files.readAllBytes(target), content)) {
      return false;
    }
    write(target, content, null);
    return true;
  }

  /** Replaces {@code target} with {@code content}. */
  public static void write(Path target, byte[] content) throws IOException {
    write(target, content, null);
  }

  /** Replaces {@code target} with {@code content}, created with the given permissions. */
  public static void write(Path target, byte[] content, Set<PosixFilePermission> permissions)
      throws IOException {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(content, "content");
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
    try {
      if (permissions != null) {
        Files.setPosixFilePermissions(temp, permissions);
      }
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(content);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      moveDurably(temp, target);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /**
   * Renames {@code source} over {@code target} atomically and makes the rename durable. Both
   * must be on one file system; the source must already be fsynced by the caller.
   */
  public static void moveDurably(Path source, Path target) throws IOException {
    try {
      Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cannot rename " + source + " to " + target + " atomically: "
          + "keep both on one file system", e);
    }
    fsyncDirectory(target.toAbsolutePath().getParent());
  }

  /**
   * Removes the temp files a crash left behind in {@code dir} for the given target names:
   * {@code .<name>.<digits>.tmp} as written here, and {@code .<name><digits>.tmp} as older
   * writers named them. Only the caller's own targets are matched, so a temp file that
   * another process (an agent beside the launcher) is writing right now is never touched.
   * Call it at start, before the first write. Returns the files removed, for the log.
   */
  public static List<Path> removeStaleTemps(Path dir, Collection<String> targetNames)
      throws IOException {
    List<Path> removed = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return removed;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, ".*.tmp")) {
      for (Path entry : entries) {
        if (isTempOf(entry.getFileName().toString(), targetNames)
            && Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)) {
          Files.deleteIfExists(entry);
          removed.add(entry);
        }
      }
    }
    if (!removed.isEmpty()) {
      fsyncDirectory(dir);
    }
    return removed;
  }

  static boolean isTempOf(String fileName, Collection<String> targetNames) {
    for (String name : targetNames) {
      String prefix = "." + name;
      if (fileName.startsWith(prefix) && fileName.endsWith(".tmp")) {
        String middle = fileName.substring(prefix.length(), fileName.length() - ".tmp".length());
        if (middle.startsWith(".")) {
          middle = middle.substring(1);
        }
        if (!middle.isEmpty() && middle.chars().allMatch(Character::isDigit)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Flushes a file's content to disk. */
  public static void fsync(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
  }

  /** Flushes a directory entry so a rename inside it survives a power cut. */
  public static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      // Some file systems refuse fsync on directories; the rename itself already happened.
      if (!"Is a directory".equals(e.getMessage())) {
        throw e;
      }
    }
  }
}
