package io.infraveil.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.process.ProcessIdentity;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The behaviour every working {@link StateStore} shares. */
abstract class StateStoreContract {

  static final PayloadId PAYLOAD = new PayloadId("a".repeat(64), 1234, 7, "v7");

  abstract StateStore store() throws IOException;

  static final PayloadId HELD = new PayloadId("b".repeat(64), 99, 8, "v8");

  /** A format-2 state: the last known good standing in for a held-back payload. */
  static LauncherState sampleHoldingBack() {
    AgentRecord web = sample().agents().get("web");
    return sample().withAgent(new AgentRecord("web", web.process(), PAYLOAD, 3, web.crashes(),
        null, 0, PAYLOAD, "CRASHES_FALL_BACK_TO_LAST_KNOWN_GOOD", HELD));
  }

  static LauncherState sample() {
    DesiredSnapshot desired = new DesiredSnapshot(42,
        List.of(new DesiredAgentSpec("web", PAYLOAD, 3, false, true)));
    AgentRecord web = new AgentRecord("web",
        new ProcessIdentity(4242, Instant.parse("2025-01-01T00:00:00.120Z")), PAYLOAD, 3,
        List.of(Instant.parse("2025-01-01T00:01:00Z")), Instant.parse("2025-01-01T00:06:00Z"), 2,
        PAYLOAD, "CRASH_WITHIN_BUDGET", null);
    return LauncherState.EMPTY.withDesired(desired).withAgent(web);
  }

  @Test
  void emptyWhenNothingWasSaved() throws IOException {
    assertEquals(Optional.empty(), store().load());
  }

  @Test
  void savedStateReadsBackEqual() throws IOException {
    StateStore store = store();
    assertTrue(store.save(sample()));
    assertEquals(sample(), store.load().orElseThrow());
  }

  @Test
  void heldBackPayloadReadsBack() throws IOException {
    StateStore store = store();
    assertTrue(store.save(sampleHoldingBack()));
    assertEquals(sampleHoldingBack(), store.load().orElseThrow());
  }

  @Test
  void unchangedStateIsNotRewritten() throws IOException {
    StateStore store = store();
    assertTrue(store.save(sample()));
    assertFalse(store.save(sample()));
    assertTrue(store.save(sample().withoutAgent("web")));
    assertEquals(Optional.of(sample().withoutAgent("web")), store.load());
  }
}
