package io.infraveil.controlplane.replica;

import com.google.protobuf.InvalidProtocolBufferException;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.proto.v1.HostEvent;
import java.util.Base64;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The detail of a {@link ChangeKind#HOST_EVENT} change: who on the host sent the event and the
 * event itself, {@code LAUNCHER:<base64>} or {@code AGENT:<base64>}, within the change log's
 * 2000 characters (a long message is cut, never the facts the rules read).
 */
final class SharedHostEvents {

  private static final Logger LOG = LoggerFactory.getLogger(SharedHostEvents.class);
  /** Base64 of this many bytes fits the change log's detail column with the origin in front. */
  private static final int MAX_EVENT_BYTES = 1400;
  private static final int CUT_TEXT = 200;

  private SharedHostEvents() {}

  static String encode(ReportIngest.ReceivedEvent received) {
    HostEvent event = received.event();
    if (event.getSerializedSize() > MAX_EVENT_BYTES) {
      event = event.toBuilder().setMessage(cut(event.getMessage())).setReason(cut(event.getReason())).build();
    }
    return received.origin().name() + ":" + Base64.getEncoder().encodeToString(event.toByteArray());
  }

  /** The event as received elsewhere, at the time the change was recorded; empty when unreadable. */
  static Optional<ReportIngest.ReceivedEvent> decode(Change change) {
    String detail = change.detail() == null ? "" : change.detail();
    int colon = detail.indexOf(':');
    try {
      ReportIngest.Origin origin = ReportIngest.Origin.valueOf(detail.substring(0, Math.max(0, colon)));
      HostEvent event = HostEvent.parseFrom(Base64.getDecoder().decode(detail.substring(colon + 1)));
      return Optional.of(new ReportIngest.ReceivedEvent(change.subject(), change.at(), event, origin));
    } catch (IllegalArgumentException | InvalidProtocolBufferException e) {
      LOG.warn("host_event_unreadable change={} host={} origin={} cause=\"{}\"", change.id(), change.subject(),
          change.origin(), e.getMessage());
      return Optional.empty();
    }
  }

  private static String cut(String text) {
    return text.length() <= CUT_TEXT ? text : text.substring(0, CUT_TEXT) + "...";
  }
}
