package io.infraveil.host.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * An account a service runs as ({@code user:} in config.yaml): its numeric uid and primary gid,
 * looked up on this host. Switching to it needs root; files it must write are handed over with
 * {@link #own}.
 */
public record ServiceAccount(String name, int uid, int gid) {

  public ServiceAccount {
    Objects.requireNonNull(name, "name");
  }

  /**
   * Looks {@code name} up with {@code id}. Throws with a message saying what to do when the
   * account does not exist or the agent cannot switch to it.
   */
  public static ServiceAccount lookup(String name) throws IOException {
    int uid = id(name, "-u");
    int gid = id(name, "-g");
    long self = currentUid();
    if (self != 0 && self != uid) {
      throw new IOException("cannot run as user '" + name + "': the agent runs as uid " + self
          + ", and only root can switch accounts; run the launcher as root or drop user:");
    }
    return new ServiceAccount(name, uid, gid);
  }

  /**
   * Makes {@code root} and everything below it (not following links) owned by this account.
   * A tree whose top already belongs to it is taken as handed over (a heal does not walk a
   * large release again).
   */
  public void own(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (((Number) Files.getAttribute(root, "unix:uid", LinkOption.NOFOLLOW_LINKS)).intValue()
        == uid) {
      return;
    }
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException failed)
          throws IOException {
        if (failed != null) {
          throw failed;
        }
        chown(dir); // after its contents: the top is owned only once all below it is
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        chown(file);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private void chown(Path path) throws IOException {
    Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
  }

  private static long currentUid() throws IOException {
    return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
  }

  private static int id(String name, String flag) throws IOException {
    Process id = new ProcessBuilder("id", flag, "--", name).redirectErrorStream(true).start();
    try {
      if (!id.waitFor(5, TimeUnit.SECONDS)) {
        id.destroyForcibly();
        throw new IOException("looking up user '" + name + "' timed out");
      }
      String out = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (id.exitValue() != 0) {
        throw new IOException("user '" + name + "' does not exist on this host; create the"
            + " account or change user: in config.yaml");
      }
      return Integer.parseInt(out);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while looking up user '" + name + "'", e);
    } catch (NumberFormatException e) {
      throw new IOException("unexpected answer from id for user '" + name + "'", e);
    }
  }
}
