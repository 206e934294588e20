package io.infraveil.host.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Memory and CPU are read for real processes, their descendants included. */
class ProcessUsageTest {

  @Test
  void thisJvmUsesMemoryAndCpu() {
    ProcessUsage usage = ProcessUsage.of(ProcessHandle.current());
    assertTrue(usage.rssBytes() > 10 * 1024 * 1024, "a JVM holds more than 10 MiB: " + usage);
    assertTrue(usage.cpu().toMillis() > 0, usage.toString());
  }

  @Test
  void aTreeCountsItsChildrenAndAGoneProcessCountsNothing() throws Exception {
    // sh stays the parent of two sleeps: the tree holds three processes.
    Process shell = new ProcessBuilder("sh", "-c", "sleep 30 & sleep 30 & wait").start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (shell.toHandle().descendants().count() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      ProcessUsage alone = ProcessUsage.of(shell.toHandle());
      ProcessUsage tree = ProcessUsage.ofTree(shell.toHandle());
      assertTrue(alone.rssBytes() > 0, alone.toString());
      assertTrue(tree.rssBytes() > alone.rssBytes(), "children add memory: " + alone + " vs " + tree);
      ProcessIdentity identity = ProcessIdentity.of(shell.toHandle()).orElseThrow();
      assertEquals(tree.rssBytes() > 0, ProcessUsage.ofTrees(List.of(identity)).rssBytes() > 0);
    } finally {
      shell.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
      shell.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
    assertEquals(ProcessUsage.NONE, ProcessUsage.ofTrees(List.of(new ProcessIdentity(shell.pid(),
        java.time.Instant.EPOCH, 1))), "an identity that no longer matches counts as nothing");
  }
}
