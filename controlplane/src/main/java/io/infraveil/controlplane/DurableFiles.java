package io.infraveil.controlplane;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Writes for files whose loss or truncation is fatal (the master key, sealed payloads): temp
 * file in the same directory, fsync, atomic rename, fsync of the directory, so a power cut
 * leaves either the old state or the complete new file, never a torn one. Temp files a crash
 * left behind are named so that {@link #removeStaleTemps} finds them at the next start.
 */
public final class DurableFiles {

  private DurableFiles() {}

  /** The temp-file name pattern of {@code target}: {@code .<name>.<random>.tmp}. */
  public static String tempGlob(String targetName) {
    return "." + targetName + ".*.tmp";
  }

  /** Writes {@code bytes} to {@code target} durably, with {@code permissions} from the start. */
  public static void write(Path target, byte[] bytes, Set<PosixFilePermission> permissions) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp",
        PosixFilePermissions.asFileAttribute(permissions));
    try {
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
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

  /** Renames a complete, fsynced {@code temp} over {@code target}, then fsyncs the directory. */
  public static void moveDurably(Path temp, Path target) throws IOException {
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    fsyncDirectory(target.toAbsolutePath().getParent());
  }

  /** Makes a rename or a new file in {@code dir} survive a power cut. */
  public static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /** Deletes the files in {@code dir} matching {@code glob}; returns how many. */
  public static int removeStaleTemps(Path dir, String glob) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    int removed = 0;
    try (DirectoryStream<Path> stale = Files.newDirectoryStream(dir, glob)) {
      for (Path file : stale) {
        if (Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS) && Files.deleteIfExists(file)) {
          removed++;
        }
      }
    }
    return removed;
  }

  /** Owner read and write only. */
  public static Set<PosixFilePermission> ownerOnly() {
    return PosixFilePermissions.fromString("rw-------");
  }
}
