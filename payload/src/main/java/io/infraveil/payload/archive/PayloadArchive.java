package io.infraveil.payload.archive;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.io.file.PathUtils;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * A payload's plaintext: a {@code .tar.gz} of an application directory with
 * {@code config.yaml} at its root. Packing is deterministic (same directory, same bytes, so
 * the same sha256); extraction treats the archive as hostile even after every signature
 * checked, because a signed archive can still be a mistake.
 */
public final class PayloadArchive {

  public static final String CONFIG_YAML = "config.yaml";
  public static final int MAX_CONFIG_YAML_BYTES = 1 << 20;

  private static final String ENCODING = "UTF-8";
  private static final int BUFFER = 64 * 1024;
  private static final FileTime EPOCH = FileTime.fromMillis(0);
  private static final int MODE_DIR = 040755;
  private static final int MODE_EXEC = 0100755;
  private static final int MODE_FILE = 0100644;
  private static final int MODE_LINK = 0120777;
  private static final Set<PosixFilePermission> PERMS_EXEC =
      PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> PERMS_FILE =
      PosixFilePermissions.fromString("rw-r--r--");

  private PayloadArchive() {}

  /**
   * Writes {@code appDir} as a deterministic {@code .tar.gz}: entries sorted by name, mtime 0,
   * owner 0:0 without names, mode 0755 for directories and executable files and 0644 for the
   * rest. Symlinks are kept when they point inside the directory and refused otherwise;
   * devices, fifos and sockets are refused. {@code out} is not closed.
   */
  public static void pack(Path appDir, OutputStream out) throws IOException {
    Objects.requireNonNull(appDir, "appDir");
    Objects.requireNonNull(out, "out");
    if (!Files.isDirectory(appDir)) {
      throw new InvalidArchiveException("cannot pack " + appDir + ": not a directory");
    }
    Path root = appDir.toRealPath();
    OutputStream keepOpen = new FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        flush();
      }
    };
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(
        new GZIPOutputStream(keepOpen, BUFFER), ENCODING)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      tar.setAddPaxHeadersForNonAsciiNames(true);
      packChildren(root, "", tar);
      tar.finish();
    }
  }

  private static void packChildren(Path dir, String prefix, TarArchiveOutputStream tar)
      throws IOException {
    List<Path> children = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
      stream.forEach(children::add);
    }
    children.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
    for (Path child : children) {
      String name = prefix + child.getFileName();
      BasicFileAttributes attrs =
          Files.readAttributes(child, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (attrs.isSymbolicLink()) {
        String target = Files.readSymbolicLink(child).toString();
        ArchivePaths.checkLinkTarget(name, target);
        TarArchiveEntry entry = entry(name, TarConstants.LF_SYMLINK, MODE_LINK);
        entry.setLinkName(target);
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
      } else if (attrs.isDirectory()) {
        tar.putArchiveEntry(entry(name + "/", TarConstants.LF_DIR, MODE_DIR));
        tar.closeArchiveEntry();
        packChildren(child, name + "/", tar);
      } else if (attrs.isRegularFile()) {
        TarArchiveEntry entry =
            entry(name, TarConstants.LF_NORMAL, isExecutable(child) ? MODE_EXEC : MODE_FILE);
        entry.setSize(attrs.size());
        tar.putArchiveEntry(entry);
        try (InputStream in = Files.newInputStream(child, LinkOption.NOFOLLOW_LINKS)) {
          long copied = in.transferTo(tar);
          if (copied != attrs.size()) {
            throw new IOException(child + " changed size while being packed; pack again");
          }
        }
        tar.closeArchiveEntry();
      } else {
        throw new InvalidArchiveException("cannot pack " + child + ": it is a device, fifo or"
            + " socket; payloads hold only files, directories and symlinks");
      }
    }
  }

  private static TarArchiveEntry entry(String name, byte type, int mode) {
    TarArchiveEntry entry = new TarArchiveEntry(name, type);
    entry.setMode(mode);
    entry.setModTime(EPOCH);
    entry.setIds(0, 0);
    entry.setUserName("");
    entry.setGroupName("");
    return entry;
  }

  private static boolean isExecutable(Path file) throws IOException {
    if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .permissions().contains(PosixFilePermission.OWNER_EXECUTE);
    }
    return Files.isExecutable(file);
  }

  /**
   * Reads the whole archive and refuses it exactly as {@link #extract} would, with the same
   * message, without writing anything; then returns its {@code config.yaml}, which must be a
   * regular file of at most 1 MiB at the root (a symlink is refused as such). The control plane
   * runs this on every upload, so nothing a host would refuse is ever stored.
   */
  public static byte[] check(InputStream tarGz, ExtractionLimits limits) throws IOException {
    Objects.requireNonNull(tarGz, "tarGz");
    Objects.requireNonNull(limits, "limits");
    ArchiveRules rules = new ArchiveRules(limits);
    byte[] buffer = new byte[BUFFER];
    byte[] config = null;
    try (TarArchiveInputStream tar = open(tarGz)) {
      for (TarArchiveEntry entry; (entry = nextEntry(tar)) != null; ) {
        String path = rules.admit(entry);
        if (path.equals(CONFIG_YAML)) {
          config = configYaml(tar, entry, rules);
        } else if (entry.isFile()) {
          for (int n; (n = tar.read(buffer)) > 0; ) {
            rules.countBytes(path, n);
          }
        }
      }
    }
    if (config == null) {
      throw new InvalidArchiveException("payload has no config.yaml at its root;"
          + " add one next to the application files and pack again");
    }
    return config;
  }

  private static byte[] configYaml(TarArchiveInputStream tar, TarArchiveEntry entry, ArchiveRules rules)
      throws IOException {
    if (entry.isSymbolicLink()) {
      throw new InvalidArchiveException("config.yaml at the payload root is a symlink (to '"
          + entry.getLinkName() + "'); it must be a regular file: copy the file there instead of"
          + " linking it");
    }
    if (!entry.isFile()) {
      throw new InvalidArchiveException(
          "config.yaml at the payload root is not a regular file (a link or directory)");
    }
    if (entry.getSize() > MAX_CONFIG_YAML_BYTES) {
      throw new InvalidArchiveException("config.yaml is " + entry.getSize()
          + " bytes; the limit is " + MAX_CONFIG_YAML_BYTES + " bytes");
    }
    byte[] config = tar.readNBytes(MAX_CONFIG_YAML_BYTES);
    rules.countBytes(CONFIG_YAML, config.length);
    return config;
  }

  /** {@link #extract(InputStream, Path, ExtractionLimits)} with the default limits. */
  public static void extract(InputStream tarGz, Path targetDir) throws IOException {
    extract(tarGz, targetDir, ExtractionLimits.DEFAULT);
  }

  /**
   * Extracts into {@code targetDir}, which must not exist or be an empty directory. Refuses
   * absolute paths, ".." components, symlinks that could point outside, hard links to
   * anything but a file already extracted, writing through a symlink, devices and fifos,
   * duplicate entries, and more bytes or entries than {@code limits} allow. Only the
   * executable bit of files is restored. On any failure everything written is removed.
   */
  public static void extract(InputStream tarGz, Path targetDir, ExtractionLimits limits)
      throws IOException {
    Objects.requireNonNull(tarGz, "tarGz");
    Objects.requireNonNull(targetDir, "targetDir");
    Objects.requireNonNull(limits, "limits");
    boolean created = prepareTarget(targetDir);
    Path root = targetDir.toRealPath();
    try {
      new Extraction(root, limits).run(tarGz);
    } catch (IOException | RuntimeException | Error e) {
      try {
        deleteContents(root, created);
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  private static boolean prepareTarget(Path targetDir) throws IOException {
    if (Files.isSymbolicLink(targetDir)) {
      throw new InvalidArchiveException("extraction target " + targetDir + " is a symlink;"
          + " give a real directory");
    }
    if (Files.exists(targetDir, LinkOption.NOFOLLOW_LINKS)) {
      if (!Files.isDirectory(targetDir, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("extraction target " + targetDir + " is not a directory");
      }
      try (DirectoryStream<Path> children = Files.newDirectoryStream(targetDir)) {
        if (children.iterator().hasNext()) {
          throw new IOException("extraction target " + targetDir
              + " is not empty; extract into a new directory");
        }
      }
      return false;
    }
    Path parent = targetDir.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.createDirectory(targetDir);
    return true;
  }

  private static void deleteContents(Path root, boolean deleteRoot) throws IOException {
    // Neither call follows symlinks: a link is deleted, never its target.
    if (deleteRoot) {
      PathUtils.deleteDirectory(root);
    } else {
      PathUtils.cleanDirectory(root);
    }
  }

  static TarArchiveInputStream open(InputStream tarGz) throws IOException {
    InputStream keepOpen = new java.io.FilterInputStream(tarGz) {
      @Override
      public void close() {}
    };
    try {
      return new TarArchiveInputStream(new GZIPInputStream(keepOpen, BUFFER), ENCODING);
    } catch (java.util.zip.ZipException e) {
      throw new InvalidArchiveException("payload is not a gzip stream: " + e.getMessage(), e);
    }
  }

  static TarArchiveEntry nextEntry(TarArchiveInputStream tar) throws IOException {
    try {
      return tar.getNextEntry();
    } catch (IllegalArgumentException e) {
      // commons-compress reports some malformed headers this way.
      throw new InvalidArchiveException("malformed tar header: " + e.getMessage(), e);
    }
  }

  static InvalidArchiveException tooManyEntries(int max) {
    return new InvalidArchiveException("archive has more than " + max + " entries,"
        + " the extraction limit");
  }

  /** One extraction: the root, and the rules that have admitted every entry so far. */
  private static final class Extraction {

    private final Path root;
    private final boolean posix;
    private final byte[] buffer = new byte[BUFFER];
    private final ArchiveRules rules;

    Extraction(Path root, ExtractionLimits limits) {
      this.root = Objects.requireNonNull(root, "root");
      this.rules = new ArchiveRules(Objects.requireNonNull(limits, "limits"));
      this.posix = root.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    void run(InputStream tarGz) throws IOException {
      try (TarArchiveInputStream tar = open(tarGz)) {
        for (TarArchiveEntry entry; (entry = nextEntry(tar)) != null; ) {
          String path = rules.admit(entry);
          if (path.isEmpty()) {
            continue;
          }
          // The rules have refused everything unsafe; the checks below guard the disk itself.
          Path target = resolve(path);
          realParents(path, true);
          try {
            write(tar, entry, path, target);
          } catch (FileAlreadyExistsException e) {
            throw ArchiveRules.duplicate(path);
          }
        }
      }
    }

    private void write(TarArchiveInputStream tar, TarArchiveEntry entry, String path,
        Path target) throws IOException {
      if (entry.isSymbolicLink()) {
        ArchivePaths.checkLinkTarget(path, entry.getLinkName());
        Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
      } else if (entry.isLink()) {
        String sourcePath = ArchivePaths.entryPath(entry.getLinkName());
        Path source = sourcePath.isEmpty() ? root : resolve(sourcePath);
        realParents(sourcePath, false);
        if (!Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
          throw new InvalidArchiveException("hard link '" + path + "' -> '"
              + entry.getLinkName() + "' does not name a file extracted before it");
        }
        Files.createLink(target, source);
      } else if (entry.isCharacterDevice() || entry.isBlockDevice() || entry.isFIFO()) {
        throw new InvalidArchiveException("archive entry '" + path
            + "' is a device or fifo; payloads hold only files, directories and links");
      } else if (entry.isDirectory()) {
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
          Files.createDirectory(target);
        }
        setPermissions(target, PERMS_EXEC);
      } else if (entry.isFile()) {
        try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE)) {
          copyBounded(tar, out, path);
        }
        setPermissions(target, (entry.getMode() & 0100) != 0 ? PERMS_EXEC : PERMS_FILE);
      } else {
        throw new InvalidArchiveException("archive entry '" + path + "' has unsupported type '"
            + (char) entry.getLinkFlag() + "'; payloads hold only files, directories and links");
      }
    }

    /** Counts real bytes, not the header's claim, against the total limit. */
    private void copyBounded(InputStream in, OutputStream out, String path) throws IOException {
      for (int n; (n = in.read(buffer)) > 0; ) {
        rules.countBytes(path, n);
        out.write(buffer, 0, n);
      }
    }

    private Path resolve(String path) throws InvalidArchiveException {
      Path target = root.resolve(path).normalize();
      if (!target.startsWith(root) || target.equals(root)) {
        throw new InvalidArchiveException("archive entry '" + path + "' resolves outside "
            + "the target directory");
      }
      return target;
    }

    /**
     * Makes sure every parent of {@code path} is a real directory (creating missing ones if
     * asked), so that nothing is ever written through a symlink the archive planted.
     */
    private void realParents(String path, boolean create) throws IOException {
      String[] parts = path.split("/");
      Path dir = root;
      for (int i = 0; i < parts.length - 1; i++) {
        dir = dir.resolve(parts[i]);
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS) || !create) {
          throw new InvalidArchiveException("archive entry '" + path + "' lies under '"
              + root.relativize(dir) + "', which is not a directory (a file or symlink);"
              + " refusing to write through it");
        }
        Files.createDirectory(dir);
        setPermissions(dir, PERMS_EXEC);
      }
    }

    private void setPermissions(Path path, Set<PosixFilePermission> permissions)
        throws IOException {
      if (posix) {
        Files.setPosixFilePermissions(path, permissions);
      }
    }
  }
}
