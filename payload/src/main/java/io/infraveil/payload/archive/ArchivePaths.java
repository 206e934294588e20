package io.infraveil.payload.archive;

import java.util.ArrayList;
import java.util.List;

/**
 * The path rules shared by packing and extraction, so that whatever {@code pack} writes,
 * {@code extract} accepts.
 */
final class ArchivePaths {

  private ArchivePaths() {}

  /**
   * The entry's path relative to the archive root, with "./" and trailing "/" removed;
   * "" for the root itself. Refuses absolute paths and any ".." component.
   */
  static String entryPath(String name) throws InvalidArchiveException {
    if (name == null || name.isEmpty()) {
      throw new InvalidArchiveException("archive has an entry with an empty name");
    }
    if (name.indexOf('\0') >= 0) {
      throw new InvalidArchiveException("archive entry name contains a NUL byte: '"
          + name.replace('\0', '?') + "'");
    }
    if (name.startsWith("/")) {
      throw new InvalidArchiveException("archive entry '" + name
          + "' has an absolute path; payload entries must be relative to the payload root");
    }
    List<String> parts = new ArrayList<>();
    for (String part : name.split("/")) {
      if (part.equals("..")) {
        throw new InvalidArchiveException("archive entry '" + name
            + "' contains '..' and could escape the target directory");
      }
      if (!part.isEmpty() && !part.equals(".")) {
        parts.add(part);
      }
    }
    return String.join("/", parts);
  }

  /**
   * Refuses a symlink target that could resolve outside the root. Targets must be relative
   * with every ".." before the first name: the ".." steps then climb real directories from
   * the link's own (real) directory, and the lexical depth check is exact. A ".." after a
   * name could climb out of another symlink's target ("d -> .", "e -> d/../..").
   */
  static void checkLinkTarget(String linkPath, String target) throws InvalidArchiveException {
    String what = "symlink '" + linkPath + "' -> '" + target + "'";
    if (target == null || target.isEmpty()) {
      throw new InvalidArchiveException(what + " has an empty target");
    }
    if (target.indexOf('\0') >= 0) {
      throw new InvalidArchiveException(what.replace('\0', '?') + " target contains a NUL byte");
    }
    if (target.startsWith("/")) {
      throw new InvalidArchiveException(what + " is absolute and points outside the payload;"
          + " use a relative link to a file inside the payload");
    }
    int depth = linkPath.split("/").length - 1;
    boolean descended = false;
    for (String part : target.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (descended) {
          throw new InvalidArchiveException(what + " has '..' after a directory name;"
              + " write it as a plain relative path such as '../lib/file'");
        }
        if (--depth < 0) {
          throw new InvalidArchiveException(what + " points outside the payload root;"
              + " links may only point inside the payload");
        }
      } else {
        descended = true;
      }
    }
  }
}
