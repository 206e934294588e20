package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.ingest.ReportIngest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * PAYLOAD_REJECTED: a launcher or an agent refused a payload that failed a check (hash, MAC,
 * signature, decryption, config.yaml). A security incident: the running version keeps running.
 * Resolves when the same host later verifies or starts that very payload (a bad download
 * fetched again), or when the deployment no longer names the rejected payload for that host.
 */
final class PayloadRejectedRule implements IncidentRule {

  private record Rejection(String sha256, Finding finding) {}

  private final Map<String, Rejection> rejected = new ConcurrentHashMap<>();
  private final BiFunction<String, String, Optional<String>> desiredSha;

  PayloadRejectedRule(BiFunction<String, String, Optional<String>> desiredSha) {
    this.desiredSha = Objects.requireNonNull(desiredSha, "desiredSha");
  }

  @Override
  public Rule rule() {
    return Rule.PAYLOAD_REJECTED;
  }

  @Override
  public void event(ReportIngest.ReceivedEvent received) {
    var event = received.event();
    String key = Heartbeats.key(received.host(), event.getDeployment());
    switch (event.getKind()) {
      case EVENT_KIND_PAYLOAD_REJECTED -> {
        String sha = event.getPayload().getSha256();
        String who = received.origin() == ReportIngest.Origin.LAUNCHER ? "launcher" : "agent";
        rejected.putIfAbsent(key, new Rejection(sha, new Finding(Rule.PAYLOAD_REJECTED, received.host(),
            event.getDeployment(), "", sha, "the " + who + " on " + received.host() + " rejected payload "
                + Heartbeats.shortSha(sha) + " of " + event.getDeployment()
                + (event.getReason().isEmpty() ? "" : " (" + event.getReason() + ")")
                + (event.getMessage().isEmpty() ? "" : ": " + event.getMessage()))));
      }
      case EVENT_KIND_PAYLOAD_VERIFIED, EVENT_KIND_VERSION_STARTED -> {
        Rejection r = rejected.get(key);
        if (r != null && r.sha256().equals(event.getPayload().getSha256())) {
          rejected.remove(key);
        }
      }
      default -> {
        // Other events say nothing about payload checks.
      }
    }
  }

  /** A rejection found open at start stays open until its normal resolution. */
  @Override
  public void restored(Finding finding) {
    rejected.putIfAbsent(Heartbeats.key(finding.host(), finding.deployment()),
        new Rejection(finding.subject(), finding));
  }

  @Override
  public List<Finding> findings(Instant now) {
    List<Finding> out = new ArrayList<>();
    rejected.forEach((key, r) -> {
      Optional<String> desired = desiredSha.apply(r.finding().host(), r.finding().deployment());
      boolean stillNamed = desired.isPresent() && (r.sha256().isEmpty() || desired.get().equals(r.sha256()));
      if (stillNamed) {
        out.add(r.finding());
      } else {
        rejected.remove(key, r);
      }
    });
    return out;
  }
}
