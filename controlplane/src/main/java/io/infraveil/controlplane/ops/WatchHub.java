package io.infraveil.controlplane.ops;

import io.infraveil.proto.v1.WatchResponse;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** Fans operational events out to Watch streams. Subscribers must not block. */
@Singleton
public final class WatchHub {

  private final List<Consumer<WatchResponse>> subscribers = new CopyOnWriteArrayList<>();
  private final List<Consumer<WatchResponse>> announcementListeners = new CopyOnWriteArrayList<>();

  /** Subscribes; the returned handle unsubscribes. */
  public Runnable subscribe(Consumer<WatchResponse> subscriber) {
    subscribers.add(subscriber);
    return () -> subscribers.remove(subscriber);
  }

  public void publish(WatchResponse event) {
    WatchResponse out = event.getTopic().isEmpty() ? event.toBuilder().setTopic(topicOf(event)).build() : event;
    subscribers.forEach(subscriber -> subscriber.accept(out));
  }

  /** The structured kind of an event, from where it came, for scripts that filter on it. */
  private static String topicOf(WatchResponse event) {
    return switch (event.getSource()) {
      case EVIDENCE_SOURCE_LAUNCHER, EVIDENCE_SOURCE_AGENT -> event.getKind()
          == io.infraveil.proto.v1.EventKind.EVENT_KIND_UNSPECIFIED ? "report" : "host_event";
      case EVIDENCE_SOURCE_INCIDENT -> "incident";
      case EVIDENCE_SOURCE_SECURITY -> "security";
      case EVIDENCE_SOURCE_PIPELINE -> event.getHostName().isEmpty() ? "deployment" : "pipeline";
      default -> "other";
    };
  }

  /** An operator's change to a deployment (deploy, delete, pause, a secret set), for Watch. */
  public void announceChange(java.time.Instant at, String deployment, String text) {
    WatchResponse event = announcement(at, deployment, text);
    publish(event);
    announcementListeners.forEach(listener -> listener.accept(event));
  }

  /** Hears each change announced on this replica, to pass it on to the others. */
  public void onAnnouncement(Consumer<WatchResponse> listener) {
    announcementListeners.add(listener);
  }

  /** A change announced on another replica: to this replica's watchers only. */
  public void announceFromElsewhere(java.time.Instant at, String deployment, String text) {
    publish(announcement(at, deployment, text));
  }

  private static WatchResponse announcement(java.time.Instant at, String deployment, String text) {
    return WatchResponse.newBuilder()
        .setAt(io.infraveil.controlplane.grpc.ProtoTime.timestamp(at))
        .setSource(io.infraveil.proto.v1.EvidenceSource.EVIDENCE_SOURCE_PIPELINE)
        .setDeployment(deployment)
        .setText(text)
        .build();
  }

  public int subscribers() {
    return subscribers.size();
  }
}
