package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.hosts.HostRevocation;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.ops.WatchHub;
import io.infraveil.controlplane.sync.SyncSessions;
import io.infraveil.proto.v1.DesiredState;
import io.micronaut.context.annotation.Context;
import jakarta.inject.Named;
import io.infraveil.controlplane.store.Jdbc;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each replica does with a change, whichever replica made it: the one place that says who
 * publishes what on the change feed and who acts on it.
 *
 * <ul>
 *   <li>a host's desired state: the replica that stored it pushes it from memory right after
 *       the commit, on its fan-out thread (never the caller's), to the streams it holds; the
 *       same transaction wrote a few change-log rows naming every host stored with its revision
 *       ({@link DesiredStateChanges}), and every other replica reads the named hosts' states
 *       from the database (a few hundred per query) and pushes them where it holds the stream.
 *       A replica that reads an older revision than the row names looks again every 50 ms for
 *       up to 10 s (the write's transaction has not committed yet). Single-host rows
 *       ({@link ChangeKind#DESIRED_STATE}, detail: the revision) are still read the same way
 *   <li>a revocation: the certificates refused here too, the host's streams here closed
 *   <li>a deployment change announced on Watch: to this replica's watchers, when made elsewhere
 *   <li>a host event incident rules and rollouts act on ({@link ReportIngest#SHARED_EVENTS}):
 *       published by the replica that received it, after its own listeners heard it; every
 *       other replica tells its listeners it happened elsewhere (the leader's rules and rollout
 *       rounds act on it; history and metrics were written where it arrived)
 * </ul>
 *
 * <p>Live state (who holds which host, last reports) is shared by {@link HostPresence}.
 */
@Context
final class ReplicaWiring {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicaWiring.class);

  /** How long a pushed revision is awaited in the database when the change outran its commit. */
  static final Duration AWAIT_COMMIT = Duration.ofSeconds(10);
  private static final long RECHECK_MILLIS = 50;

  private final DesiredStates desiredStates;
  private final SyncSessions sessions;
  private final ScheduledExecutorService scheduler;
  private final ExecutorService fanOut;

  ReplicaWiring(ChangeFeed feed, Jdbc jdbc, DesiredStates desiredStates, SyncSessions sessions,
      HostRevocation revocation, WatchHub watch, HostPresence presence, ReportIngest ingest,
      @Named(ReplicationExecutor.NAME) ScheduledExecutorService scheduler,
      @Named(ReplicationExecutor.FAN_OUT) ExecutorService fanOut) {
    this.desiredStates = desiredStates;
    this.sessions = sessions;
    this.scheduler = scheduler;
    this.fanOut = fanOut;
    // In the storing transaction, so other replicas hear of the states exactly when they
    // commit. The revisions ride along: a replica that reads an older one knows the write has
    // not committed yet and looks again instead of missing it.
    desiredStates.recordStoredWithin(states -> {
      Map<String, Long> revisions = new LinkedHashMap<>();
      states.forEach(state -> revisions.put(state.getHostName(), state.getRevision()));
      jdbc.inTransaction("record the desired states of " + states.size() + " hosts in the change log", c -> {
        feed.publishAllWithin(c, ChangeKind.DESIRED_STATES, DesiredStateChanges.encode(revisions));
        return null;
      });
    });
    desiredStates.addBatchListener(states -> fanOut.execute(() -> pushAll(states)));
    watch.onAnnouncement(event -> feed.publish(ChangeKind.DEPLOYMENT_ANNOUNCED, event.getDeployment(),
        event.getText()));

    ingest.addListener(new ReportIngest.Listener() {
      @Override
      public void event(ReportIngest.ReceivedEvent received) {
        if (ReportIngest.SHARED_EVENTS.contains(received.event().getKind())) {
          // Off the report's thread: reports never wait on the database for the others.
          scheduler.execute(() -> publishQuietly(feed, received));
        }
      }
    });
    feed.subscribe(ChangeKind.HOST_EVENT, change -> {
      if (!change.origin().equals(feed.replica())) {
        SharedHostEvents.decode(change).ifPresent(ingest::eventElsewhere);
      }
    });
    feed.subscribe(ChangeKind.DESIRED_STATE,
        change -> push(change.subject(), change, expectedRevision(change), System.nanoTime()));
    feed.subscribe(ChangeKind.DESIRED_STATES, change -> {
      if (!change.origin().equals(feed.replica())) { // this replica pushed them from memory at commit
        pushStored(change, DesiredStateChanges.decode(change));
      }
    });
    feed.subscribe(ChangeKind.HOST_REVOKED, change -> {
      presence.forget(change.subject());
      int closed = revocation.applyStoredRevocation(change.subject(),
          change.detail() == null ? "host " + change.subject() + " was revoked" : change.detail());
      if (closed > 0) {
        LOG.info("revocation_applied host={} closed_streams={} origin={}", change.subject(), closed, change.origin());
      }
    });
    feed.subscribe(ChangeKind.DEPLOYMENT_ANNOUNCED, change -> {
      if (!change.origin().equals(feed.replica())) {
        watch.announceFromElsewhere(change.at(), change.subject(), change.detail() == null ? "" : change.detail());
      }
    });
    feed.start();
    presence.start();
  }

  private static void publishQuietly(ChangeFeed feed, ReportIngest.ReceivedEvent received) {
    try {
      feed.publish(ChangeKind.HOST_EVENT, received.host(), SharedHostEvents.encode(received));
    } catch (RuntimeException e) {
      LOG.warn("host_event_not_shared host={} kind={} cause=\"{}\"; the leader's rules do not hear it unless"
          + " it is this replica", received.host(), received.event().getKind(), e.getMessage());
    }
  }

  /** Pushes states stored here to the streams held here (on the fan-out thread). */
  private void pushAll(List<DesiredState> states) {
    for (DesiredState state : states) {
      try {
        sessions.pushIfNewer(state.getHostName(), state);
      } catch (RuntimeException e) {
        LOG.warn("desired_push_failed host={} revision={} cause=\"{}\"", state.getHostName(), state.getRevision(),
            e.getMessage());
      }
    }
  }

  /** Reads the named hosts' stored states in a few queries and pushes those held here. */
  private void pushStored(Change change, Map<String, Long> expected) {
    Map<String, DesiredState> stored = desiredStates.reload(expected.keySet());
    long now = System.nanoTime();
    expected.forEach((host, revision) -> {
      DesiredState state = stored.get(host);
      if (state == null || state.getRevision() < revision) {
        scheduler.schedule(() -> push(host, change, revision, now), RECHECK_MILLIS, TimeUnit.MILLISECONDS);
      } else if (sessions.pushIfNewer(host, state)) {
        LOG.debug("desired_pushed host={} revision={} change={} origin={}", host, state.getRevision(),
            change.id(), change.origin());
      }
    });
  }

  /** Reads the host's stored state and pushes it where the stream is here; waits for an uncommitted revision. */
  private void push(String host, Change change, long expected, long since) {
    DesiredState state = desiredStates.reload(host);
    if (state.getRevision() < expected) {
      if (System.nanoTime() - since < AWAIT_COMMIT.toNanos()) {
        scheduler.schedule(() -> push(host, change, expected, since), RECHECK_MILLIS, TimeUnit.MILLISECONDS);
      } else {
        LOG.warn("desired_state_never_committed host={} revision={} stored={} change={} origin={}",
            host, expected, state.getRevision(), change.id(), change.origin());
      }
      return;
    }
    if (sessions.pushIfNewer(host, state)) {
      LOG.debug("desired_pushed host={} revision={} change={} origin={}", host, state.getRevision(),
          change.id(), change.origin());
    }
  }

  private static long expectedRevision(Change change) {
    try {
      return change.detail() == null ? 0 : Long.parseLong(change.detail());
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
