package io.infraveil.host.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exit callbacks for real processes: children, processes that are not ours, and the dead. */
class ExitWatchTest {

  @TempDir Path dir;
  private Process started;
  private long orphan = -1;

  @AfterEach
  void cleanUp() {
    if (orphan > 0) {
      ProcessGroups.signal(orphan, "KILL");
    }
    if (started != null) {
      started.destroyForcibly();
    }
  }

  @Test
  void callsBackOnceWhenAChildIsKilled() throws Exception {
    started = new ProcessBuilder("sleep", "1000").start();
    ProcessIdentity identity = ProcessIdentity.of(started.toHandle()).orElseThrow();
    CountDownLatch exited = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    ExitWatch.watch(identity, "test-exit", () -> {
      calls.incrementAndGet();
      exited.countDown();
    });
    assertFalse(exited.await(300, TimeUnit.MILLISECONDS), "no callback while it runs");
    ProcessGroups.signal(identity.pid(), "KILL");
    assertTrue(exited.await(30, TimeUnit.SECONDS), "callback after the kill");
    Thread.sleep(100);
    assertEquals(1, calls.get());
  }

  // A process another parent started (as after an agent restart): the kernel still wakes us.
  @Test
  void callsBackForAProcessThatIsNotOurChild() throws Exception {
    started = new ProcessBuilder("sh", "-c", "sleep 1000 & echo $! > orphan.pid")
        .directory(dir.toFile()).start();
    assertTrue(started.waitFor(30, TimeUnit.SECONDS));
    orphan = Long.parseLong(Files.readString(dir.resolve("orphan.pid")).trim());
    ProcessIdentity identity = ProcessIdentity.ofPid(orphan).orElseThrow();
    assertTrue(ProcessHandle.current().children().noneMatch(c -> c.pid() == identity.pid()));
    CountDownLatch exited = new CountDownLatch(1);
    ExitWatch.watch(identity, "test-exit", exited::countDown);
    assertFalse(exited.await(300, TimeUnit.MILLISECONDS), "no callback while it runs");
    ProcessGroups.signal(orphan, "KILL");
    assertTrue(exited.await(30, TimeUnit.SECONDS), "callback after the kill");
  }

  @Test
  void callsBackAtOnceForAProcessAlreadyGone() throws Exception {
    started = new ProcessBuilder("sleep", "0.2").start();
    ProcessIdentity identity = ProcessIdentity.of(started.toHandle()).orElseThrow();
    assertTrue(started.waitFor(30, TimeUnit.SECONDS));
    CountDownLatch exited = new CountDownLatch(1);
    ExitWatch.watch(identity, "test-exit", exited::countDown);
    assertTrue(exited.await(30, TimeUnit.SECONDS));
  }
}
