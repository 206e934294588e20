package io.infraveil.host.process.cgroup;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Names of Infraveil's cgroups, the same in every hierarchy:
 * {@code infraveil/<host key>/<deployment>/<service>-<cluster index>}.
 *
 * <p>The host key is the last name of the host data dir plus 12 hex digits of the SHA-256 of
 * its absolute path, so two launchers with two data dirs on one machine never share a cgroup.
 * Each segment is escaped: ASCII letters, digits, {@code _} and {@code -} stay; every other
 * byte of its UTF-8 form becomes {@code %XX}. No segment can then be {@code .}, {@code ..},
 * contain {@code /}, or look like a control file ({@code memory.max}), because {@code .} is
 * always escaped.
 */
public final class CgroupName {

  private CgroupName() {}

  /** Escapes one path segment as described above. */
  public static String escape(String segment) {
    Objects.requireNonNull(segment, "segment");
    if (segment.isEmpty()) {
      throw new IllegalArgumentException("a cgroup name segment must not be empty");
    }
    StringBuilder out = new StringBuilder();
    for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '_' || c == '-';
      if (plain) {
        out.append((char) c);
      } else {
        out.append('%').append(String.format("%02X", c));
      }
    }
    return out.toString();
  }

  /** The host key of a host data dir (see the class comment). */
  public static String hostKey(Path dataDir) {
    Path absolute = dataDir.toAbsolutePath().normalize();
    Path last = absolute.getFileName();
    String readable = last == null ? "root" : last.toString();
    if (readable.length() > 32) {
      readable = readable.substring(0, 32);
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(absolute.toString().getBytes(StandardCharsets.UTF_8));
      return escape(readable) + "-" + HexFormat.of().formatHex(digest, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  /** {@code <host key>/<deployment>} below {@code infraveil/}. */
  static String deployment(String hostKey, String deployment) {
    return hostKey + "/" + escape(deployment);
  }

  /** {@code <host key>/<deployment>/<service>-<index>} below {@code infraveil/}. */
  static String instance(String hostKey, String deployment, String service, int clusterIndex) {
    if (clusterIndex < 0) {
      throw new IllegalArgumentException("cluster index must not be negative: " + clusterIndex);
    }
    return deployment(hostKey, deployment) + "/" + escape(service) + "-" + clusterIndex;
  }
}
