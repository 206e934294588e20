package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** States are saved off the caller's thread, in order, the latest winning; flush waits. */
class StateWriterTest {

  private static AgentState state(String sha) {
    return new AgentState(AgentState.FORMAT_VERSION, sha, AgentState.EMPTY.versions(), Map.of());
  }

  /** A store whose first save blocks until released, recording what it saved. */
  private static final class GatedStore implements AgentStateStore {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final List<String> saved = new CopyOnWriteArrayList<>();

    @Override
    public AgentState load() {
      return AgentState.EMPTY;
    }

    @Override
    public void save(AgentState state) {
      entered.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      saved.add(state.releaseSha256());
    }
  }

  @Test
  void submitReturnsBeforeTheSaveAndFlushWaitsForTheLatest() throws Exception {
    GatedStore store = new GatedStore();
    StateWriter writer = new StateWriter(store);
    writer.submit(state("a")); // returns although the save blocks
    assertTrue(store.entered.await(30, TimeUnit.SECONDS));
    writer.submit(state("b"));
    writer.submit(state("c")); // replaces b, not started yet
    CountDownLatch flushed = new CountDownLatch(1);
    Thread flusher = new Thread(() -> {
      writer.flush();
      flushed.countDown();
    });
    flusher.start();
    assertTrue(!flushed.await(200, TimeUnit.MILLISECONDS), "flush waits for the blocked save");
    store.release.countDown();
    assertTrue(flushed.await(30, TimeUnit.SECONDS));
    assertEquals(List.of("a", "c"), store.saved);
  }

  @Test
  void aFailedSaveIsLoggedAndFlushStillReturns() {
    StateWriter writer = new StateWriter(new AgentStateStore() {
      @Override
      public AgentState load() {
        return AgentState.EMPTY;
      }

      @Override
      public void save(AgentState state) throws java.io.IOException {
        throw new java.io.IOException("disk full");
      }
    });
    writer.submit(state("a"));
    writer.flush();
  }
}
