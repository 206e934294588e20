package io.infraveil.payload.archive;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * Every rule an archive entry must pass, checked against a model of the tree the entries
 * before it would have made. Extraction (on hosts) and the upload check (on the control plane)
 * both admit each entry here, so whatever a host refuses is refused at upload with the same
 * message, without anything being written.
 */
final class ArchiveRules {

  /** What a path is in the tree built so far. */
  private enum Kind { DIRECTORY, FILE, SYMLINK }

  private final ExtractionLimits limits;
  /** Paths relative to the root ("" is the root itself). */
  private final Map<String, Kind> tree = new HashMap<>();
  private int entries;
  private long bytes;

  ArchiveRules(ExtractionLimits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
    tree.put("", Kind.DIRECTORY);
  }

  /**
   * Admits the next entry or throws saying why it is refused; returns its path relative to the
   * root, "" for the root directory itself (which writes nothing).
   */
  String admit(TarArchiveEntry entry) throws InvalidArchiveException {
    if (++entries > limits.maxEntries()) {
      throw PayloadArchive.tooManyEntries(limits.maxEntries());
    }
    String path = ArchivePaths.entryPath(entry.getName());
    if (path.isEmpty()) {
      if (!entry.isDirectory()) {
        throw new InvalidArchiveException(
            "archive entry '" + entry.getName() + "' names the root but is not a directory");
      }
      return path;
    }
    parents(path, true);
    if (entry.isSymbolicLink()) {
      ArchivePaths.checkLinkTarget(path, entry.getLinkName());
      add(path, Kind.SYMLINK);
    } else if (entry.isLink()) {
      String source = ArchivePaths.entryPath(entry.getLinkName());
      parents(source, false);
      if (tree.get(source) != Kind.FILE) {
        throw new InvalidArchiveException("hard link '" + path + "' -> '" + entry.getLinkName()
            + "' does not name a file extracted before it");
      }
      add(path, Kind.FILE);
    } else if (entry.isCharacterDevice() || entry.isBlockDevice() || entry.isFIFO()) {
      throw new InvalidArchiveException("archive entry '" + path
          + "' is a device or fifo; payloads hold only files, directories and links");
    } else if (entry.isDirectory()) {
      Kind existing = tree.get(path);
      if (existing == null) {
        tree.put(path, Kind.DIRECTORY);
      } else if (existing != Kind.DIRECTORY) {
        throw duplicate(path);
      }
    } else if (entry.isFile()) {
      add(path, Kind.FILE);
    } else {
      throw new InvalidArchiveException("archive entry '" + path + "' has unsupported type '"
          + (char) entry.getLinkFlag() + "'; payloads hold only files, directories and links");
    }
    return path;
  }

  /** Counts {@code n} more content bytes of {@code path}: real bytes, not the header's claim. */
  void countBytes(String path, int n) throws InvalidArchiveException {
    bytes += n;
    if (bytes > limits.maxTotalBytes()) {
      throw new InvalidArchiveException("archive expands to more than " + limits.maxTotalBytes()
          + " bytes (limit reached in '" + path + "')");
    }
  }

  /**
   * Every parent of {@code path} must be a directory, never a file or symlink, so nothing is
   * written through a link the archive planted; missing parents are created when
   * {@code create}, and refused otherwise (a hard link's source must already exist).
   */
  private void parents(String path, boolean create) throws InvalidArchiveException {
    String[] parts = path.split("/");
    StringBuilder dir = new StringBuilder();
    for (int i = 0; i < parts.length - 1; i++) {
      if (i > 0) {
        dir.append('/');
      }
      dir.append(parts[i]);
      String parent = dir.toString();
      Kind kind = tree.get(parent);
      if (kind == Kind.DIRECTORY) {
        continue;
      }
      if (kind != null || !create) {
        throw new InvalidArchiveException("archive entry '" + path + "' lies under '" + parent
            + "', which is not a directory (a file or symlink); refusing to write through it");
      }
      tree.put(parent, Kind.DIRECTORY);
    }
  }

  private void add(String path, Kind kind) throws InvalidArchiveException {
    if (tree.putIfAbsent(path, kind) != null) {
      throw duplicate(path);
    }
  }

  static InvalidArchiveException duplicate(String path) {
    return new InvalidArchiveException("archive entry '" + path
        + "' appears more than once (or collides with a link); each path may appear once");
  }
}
