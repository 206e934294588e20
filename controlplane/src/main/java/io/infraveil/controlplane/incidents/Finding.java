package io.infraveil.controlplane.incidents;

import java.util.Objects;

/**
 * A rule holding right now for one subject. Findings with the same key are the same incident:
 * while a rule keeps returning it the incident stays open; when it stops, the incident resolves.
 *
 * @param host the host concerned, or empty
 * @param deployment the deployment concerned, or empty
 * @param service the service concerned, or empty
 * @param subject anything else that tells two findings of one rule apart (a caller identity)
 * @param summary one line for humans, fixed when the incident opens
 */
public record Finding(Rule rule, String host, String deployment, String service, String subject,
    String summary) {

  public Finding {
    Objects.requireNonNull(rule, "rule");
    host = host == null ? "" : host;
    deployment = deployment == null ? "" : deployment;
    service = service == null ? "" : service;
    subject = subject == null ? "" : subject;
    Objects.requireNonNull(summary, "summary");
  }

  /** Identity of the incident this finding belongs to. */
  public String key() {
    return String.join("|", rule.name(), host, deployment, service, subject);
  }

  /** Rebuilds a finding from a stored key (the summary is not part of the key). */
  static Finding fromKey(String key, String summary) {
    String[] parts = key.split("\\|", -1);
    if (parts.length != 5) {
      throw new IllegalArgumentException("incident key \"" + key + "\" does not have 5 parts");
    }
    return new Finding(Rule.valueOf(parts[0]), parts[1], parts[2], parts[3], parts[4], summary);
  }
}
