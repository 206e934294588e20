package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.hosts.HostRevocation;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.ops.WatchHub;
import io.infraveil.controlplane.sync.SyncSessions;
import io.infraveil.proto.v1.DesiredState;
import io.micronaut.context.annotation.Context;
import jakarta.inject.Named;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each replica does with a change, whichever replica made it: the one place that says who
 * publishes what on the change feed and who acts on it.
 *
 * <ul>
 *   <li>a host's desired state: read from the database and pushed on its Sync stream by the
 *       replica that holds it (the writer included: pushes go through the feed alone); the
 *       change carries the revision, and a replica that reads an older one looks again every
 *       50 ms for up to 10 s (the write's transaction has not committed yet)
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

  ReplicaWiring(ChangeFeed feed, DesiredStates desiredStates, SyncSessions sessions, HostRevocation revocation,
      WatchHub watch, HostPresence presence, ReportIngest ingest, @Named(ReplicationExecutor.NAME) ScheduledExecutorService scheduler) {
    this.desiredStates = desiredStates;
    this.sessions = sessions;
    this.scheduler = scheduler;
    // The revision rides along: a replica that reads an older one knows the write has not
    // committed yet (a caller's wider transaction) and looks again instead of missing it.
    desiredStates.addListener((host, state) -> feed.publish(ChangeKind.DESIRED_STATE, host,
        Long.toString(state.getRevision())));
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
    feed.subscribe(ChangeKind.DESIRED_STATE, change -> push(change, expectedRevision(change), System.nanoTime()));
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

  /** Reads the host's stored state and pushes it where the stream is here; waits for an uncommitted revision. */
  private void push(Change change, long expected, long since) {
    DesiredState state = desiredStates.reload(change.subject());
    if (state.getRevision() < expected) {
      if (System.nanoTime() - since < AWAIT_COMMIT.toNanos()) {
        scheduler.schedule(() -> push(change, expected, since), RECHECK_MILLIS, TimeUnit.MILLISECONDS);
      } else {
        LOG.warn("desired_state_never_committed host={} revision={} stored={} change={} origin={}",
            change.subject(), expected, state.getRevision(), change.id(), change.origin());
      }
      return;
    }
    if (sessions.pushIfNewer(change.subject(), state)) {
      LOG.debug("desired_pushed host={} revision={} change={} origin={}", change.subject(), state.getRevision(),
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
