package io.infraveil.controlplane.replica;

import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.hosts.HostRevocation;
import io.infraveil.controlplane.ops.WatchHub;
import io.infraveil.controlplane.sync.SyncSessions;
import io.micronaut.context.annotation.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each replica does with a change, whichever replica made it: the one place that says who
 * publishes what on the change feed and who acts on it.
 *
 * <ul>
 *   <li>a host's desired state: read from the database and pushed on its Sync stream by the
 *       replica that holds it (the writer included: pushes go through the feed alone)
 *   <li>a revocation: the certificates refused here too, the host's streams here closed
 *   <li>a deployment change announced on Watch: to this replica's watchers, when made elsewhere
 * </ul>
 *
 * <p>Live state (who holds which host, last reports) is shared by {@link HostPresence}.
 */
@Context
final class ReplicaWiring {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicaWiring.class);

  ReplicaWiring(ChangeFeed feed, DesiredStates desiredStates, SyncSessions sessions, HostRevocation revocation,
      WatchHub watch, HostPresence presence) {
    desiredStates.addListener((host, state) -> feed.publish(ChangeKind.DESIRED_STATE, host, null));
    watch.onAnnouncement(event -> feed.publish(ChangeKind.DEPLOYMENT_ANNOUNCED, event.getDeployment(),
        event.getText()));

    feed.subscribe(ChangeKind.DESIRED_STATE, change -> {
      var state = desiredStates.reload(change.subject());
      if (sessions.pushIfNewer(change.subject(), state)) {
        LOG.debug("desired_pushed host={} revision={} change={} origin={}", change.subject(), state.getRevision(),
            change.id(), change.origin());
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
}
