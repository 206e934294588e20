package io.infraveil.host.payload;

import java.io.IOException;
import org.apache.commons.io.file.PathUtils;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/** Recursive delete and fsync of directory trees; symlinks are never followed. */
final class FileTrees {

  private FileTrees() {}

  /** Deletes {@code root} and everything under it; nothing to do when it is missing. */
  static void deleteRecursively(Path root) throws IOException {
    if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      PathUtils.delete(root); // does not follow symlinks: a link is deleted, never its target
    }
  }

  /** Best-effort delete for cleanup after another failure; problems are added to {@code into}. */
  static void deleteQuietly(Path root, Throwable into) {
    try {
      deleteRecursively(root);
    } catch (IOException e) {
      into.addSuppressed(e);
    }
  }

  /** Flushes every regular file and directory under {@code root} (files first). */
  static void fsyncTree(Path root) throws IOException {
    List<Path> dirs = new ArrayList<>();
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (attrs.isRegularFile()) {
          io.infraveil.host.fs.AtomicFiles.fsync(file);
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
        if (e != null) {
          throw e;
        }
        dirs.add(dir);
        return FileVisitResult.CONTINUE;
      }
    });
    for (Path dir : dirs) {
      io.infraveil.host.fs.AtomicFiles.fsyncDirectory(dir);
    }
  }
}
