package io.infraveil.host.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceAccountTest {

  private static int uidOf(Path path) throws IOException {
    return ((Number) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS)).intValue();
  }

  // An account that exists resolves to its numeric ids; one that does not says what to do.
  @Test
  void looksUpAccountsAndNamesAMissingOne() throws Exception {
    assumeTrue(uidOf(Path.of("/proc/self")) == 0, "skipped: switching accounts needs root");
    ServiceAccount nobody = ServiceAccount.lookup("nobody");
    assertEquals("nobody", nobody.name());
    assertEquals(Integer.parseInt(new String(new ProcessBuilder("id", "-u", "nobody").start()
        .getInputStream().readAllBytes()).trim()), nobody.uid());
    assertEquals(Integer.parseInt(new String(new ProcessBuilder("id", "-g", "nobody").start()
        .getInputStream().readAllBytes()).trim()), nobody.gid());
    IOException e = assertThrows(IOException.class,
        () -> ServiceAccount.lookup("no-such-account-x"));
    assertEquals("user 'no-such-account-x' does not exist on this host; create the account or"
        + " change user: in config.yaml", e.getMessage());
  }

  // own() hands a whole tree over (links not followed), top last; a tree already handed over
  // is not walked again.
  @Test
  void ownHandsTheTreeOverAndSkipsATreeAlreadyOwned(@TempDir Path tmp) throws Exception {
    assumeTrue(uidOf(Path.of("/proc/self")) == 0, "skipped: chown needs root");
    ServiceAccount nobody = ServiceAccount.lookup("nobody");
    Path release = Files.createDirectories(tmp.resolve("release/sub"));
    Files.writeString(release.resolve("app.js"), "x");
    Path outside = Files.writeString(tmp.resolve("outside.txt"), "y");
    Files.createSymbolicLink(release.resolve("link"), outside);

    nobody.own(tmp.resolve("release"));
    assertEquals(nobody.uid(), uidOf(tmp.resolve("release")));
    assertEquals(nobody.uid(), uidOf(release));
    assertEquals(nobody.uid(), uidOf(release.resolve("app.js")));
    assertEquals(nobody.uid(), uidOf(release.resolve("link")));
    assertEquals(0, uidOf(outside), "a link's target is not handed over");

    Path added = Files.writeString(release.resolve("added.txt"), "z");
    nobody.own(tmp.resolve("release"));
    assertEquals(0, uidOf(added), "a tree whose top is owned is not walked again");
  }
}
