package io.infraveil.devpostgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;

/**
 * Where a server's data dir goes. PostgreSQL wants a data dir owned by the user it runs as, with
 * mode 0700, and every directory above it searchable by that user. As a normal user that is
 * simply {@code dir/data}. As root the server runs as {@code nobody}, which cannot enter a
 * private directory such as a JUnit temp dir or /root; then the data dir moves to the temp dir,
 * named after {@code dir} so the same {@code dir} finds the same data again.
 */
final class DataDirs {

  static final int NOBODY = 65534;
  static final Set<PosixFilePermission> WORLD_READABLE_DIR =
      PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> PRIVATE_DIR =
      PosixFilePermissions.fromString("rwx------");

  private DataDirs() {}

  static boolean runningAsRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  static Path forServer(Path dir) throws IOException {
    Path absolute = dir.toAbsolutePath().normalize();
    if (!runningAsRoot()) {
      return absolute.resolve("data");
    }
    Path base = searchableByOthers(absolute) ? absolute
        : Path.of(System.getProperty("java.io.tmpdir"), "infraveil-postgres-data-"
            + shortHash(absolute.toString()));
    Files.createDirectories(base);
    Files.setPosixFilePermissions(base, WORLD_READABLE_DIR);
    Path data = base.resolve("data");
    if (!Files.exists(data)) {
      Files.createDirectory(data);
    }
    Files.setPosixFilePermissions(data, PRIVATE_DIR);
    UserPrincipalLookupService users = data.getFileSystem().getUserPrincipalLookupService();
    Files.setOwner(data, users.lookupPrincipalByName("nobody"));
    Files.setAttribute(data, "unix:gid", NOBODY);
    return data;
  }

  private static boolean searchableByOthers(Path dir) throws IOException {
    for (Path p = dir.getParent(); p != null; p = p.getParent()) {
      if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
        return false;
      }
    }
    return true;
  }

  private static String shortHash(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
