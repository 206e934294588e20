package io.infraveil.controlplane.incidents;

import io.infraveil.certs.Identity;
import io.infraveil.controlplane.store.SecurityEventStore.SecurityEventRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CERTIFICATE_OR_AUTHORIZATION: at least {@code threshold} refusals (no or foreign or revoked
 * certificate, PERMISSION_DENIED, bad join token, refused HTTP credentials) by one caller
 * within a rolling window. Resolves when the count in the window falls below the threshold.
 * The caller is its certificate identity, else its address.
 */
final class AuthFailuresRule implements IncidentRule {

  /** Security event kinds that are not a caller's failure (operator actions, payload checks). */
  private static final Set<String> NOT_COUNTED = Set.of("HOST_REVOKED", "HOST_REPLACED", "PAYLOAD_REJECTED");

  private record Failures(Deque<Instant> at, String lastKind, String lastMessage, String host) {}

  private final int threshold;
  private final Duration window;
  /** Guarded by this. */
  private final Map<String, Failures> byCaller = new HashMap<>();

  AuthFailuresRule(int threshold, Duration window) {
    if (threshold < 1) {
      throw new IllegalArgumentException("authFailureThreshold must be at least 1, got " + threshold);
    }
    this.threshold = threshold;
    this.window = window;
  }

  @Override
  public Rule rule() {
    return Rule.CERTIFICATE_OR_AUTHORIZATION;
  }

  @Override
  public synchronized void securityEvent(SecurityEventRecord event) {
    if (NOT_COUNTED.contains(event.kind())) {
      return;
    }
    String caller = callerOf(event);
    Failures old = byCaller.get(caller);
    Deque<Instant> times = old == null ? new ArrayDeque<>() : old.at();
    times.addLast(event.at());
    byCaller.put(caller, new Failures(times, event.kind(), event.message(), hostOf(event.identity())));
  }

  @Override
  public synchronized List<Finding> findings(Instant now) {
    List<Finding> out = new ArrayList<>();
    Instant since = now.minus(window);
    var entries = byCaller.entrySet().iterator();
    while (entries.hasNext()) {
      var entry = entries.next();
      Deque<Instant> times = entry.getValue().at();
      while (!times.isEmpty() && times.peekFirst().isBefore(since)) {
        times.removeFirst();
      }
      if (times.isEmpty()) {
        entries.remove();
      } else if (times.size() >= threshold) {
        Failures f = entry.getValue();
        out.add(new Finding(Rule.CERTIFICATE_OR_AUTHORIZATION, f.host(), "", "", entry.getKey(),
            times.size() + " certificate or authorization failures by " + entry.getKey() + " within "
                + window.toSeconds() + " s; latest " + f.lastKind() + ": " + f.lastMessage()));
      }
    }
    return out;
  }

  static String callerOf(SecurityEventRecord event) {
    if (event.identity() != null && !event.identity().isEmpty()) {
      return event.identity();
    }
    if (event.peer() != null && !event.peer().isEmpty()) {
      String peer = event.peer().startsWith("/") ? event.peer().substring(1) : event.peer();
      int colon = peer.lastIndexOf(':');
      return "address " + (colon > 0 ? peer.substring(0, colon) : peer);
    }
    return "an anonymous caller";
  }

  private static String hostOf(String identity) {
    if (identity == null || identity.isEmpty()) {
      return "";
    }
    try {
      Identity parsed = Identity.parse(identity);
      return parsed.isHost() ? parsed.name() : "";
    } catch (RuntimeException notAnIdentity) {
      return "";
    }
  }
}
