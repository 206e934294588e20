package io.infraveil.controlplane.deploy;

import io.infraveil.controlplane.store.HostStore.HostRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Checks a deployment's targets against the hosts that exist before anything is stored, so a
 * typo never becomes a deployment that silently runs nowhere. A pure function of the targets,
 * {@code instances} and the host list:
 *
 * <ul>
 *   <li>refused: a host name that is not enrolled or is revoked, a label value that holds a
 *       second selector ({@code zone=a,zone=b} sent unsplit), or labels that match no host;
 *       each message says what exists;</li>
 *   <li>warned: fewer placed hosts than {@code instances}.</li>
 * </ul>
 *
 * <p>{@code instances} means the same for both kinds of target: the number of hosts the
 * deployment should run on (the largest among its services). It never removes a host the
 * operator selected; it only warns when fewer are there.
 */
public final class PlacementReview {

  /** Why a placement is refused: the gRPC edge maps these to status codes. */
  public enum Refusal {
    /** The request itself is malformed (a selector with two values for one key). */
    INVALID_TARGET,
    /** The request is well formed but the fleet does not have what it names. */
    NOTHING_THERE
  }

  /** The outcome: placed hosts and warnings, or a refusal with its message. */
  public record Outcome(List<String> placed, List<String> warnings, Refusal refusal, String message) {
    public Outcome {
      placed = List.copyOf(placed);
      warnings = List.copyOf(warnings);
    }

    public boolean refused() {
      return refusal != null;
    }
  }

  private PlacementReview() {}

  /**
   * @param deployment name, for messages
   * @param hosts named targets (empty when placing by labels)
   * @param labels label targets (empty when placing by names)
   * @param instances hosts wanted (0: no count asked for)
   * @param fleet every enrolled host, revoked ones included
   */
  public static Outcome review(String deployment, List<String> hosts, Map<String, String> labels, int instances,
      List<HostRecord> fleet) {
    Objects.requireNonNull(fleet, "fleet");
    List<HostRecord> eligible = fleet.stream().filter(host -> !host.revoked())
        .sorted(Comparator.comparing(HostRecord::name)).toList();
    List<String> placed;
    if (!hosts.isEmpty()) {
      // Sets and maps, not list scans: a deployment may name every host of a large fleet.
      Map<String, HostRecord> byName = new HashMap<>();
      fleet.forEach(host -> byName.put(host.name(), host));
      List<String> problems = new ArrayList<>();
      for (String name : new TreeSet<>(hosts)) {
        HostRecord record = byName.get(name);
        if (record == null) {
          problems.add(name + " is not enrolled");
        } else if (record.revoked()) {
          problems.add(name + " is revoked");
        }
      }
      if (!problems.isEmpty()) {
        return refused(Refusal.NOTHING_THERE, "deployment " + deployment + " cannot be placed: "
            + shortList(problems) + "; enrolled hosts: " + names(eligible)
            + " (`infraveil ctl hosts` lists them; `infraveil ctl tokens create NAME` enrolls a new one)");
      }
      Set<String> named = new HashSet<>(hosts);
      placed = eligible.stream().map(HostRecord::name).filter(named::contains).toList();
    } else {
      for (var entry : labels.entrySet()) {
        if (entry.getKey().isBlank() || entry.getValue().isBlank() || entry.getValue().contains(",")
            || entry.getValue().contains("=")) {
          return refused(Refusal.INVALID_TARGET, "deployment " + deployment + ": label selector "
              + entry.getKey() + "=" + entry.getValue() + " is not one key=value; a host has one value per key,"
              + " so give each key once (values of " + entry.getKey() + " on hosts: "
              + valuesOf(entry.getKey(), eligible) + ")");
        }
      }
      placed = eligible.stream().filter(host -> matches(host.labels(), labels)).map(HostRecord::name).toList();
      if (placed.isEmpty()) {
        return refused(Refusal.NOTHING_THERE, "deployment " + deployment + ": no enrolled host has labels "
            + selector(labels) + "; " + labels.keySet().stream()
                .map(key -> "values of " + key + " on hosts: " + valuesOf(key, eligible))
                .collect(Collectors.joining("; ")));
      }
    }
    List<String> warnings = new ArrayList<>();
    if (instances > placed.size()) {
      warnings.add("deployment " + deployment + " asks for " + instances + " instances (hosts) but is placed on "
          + placed.size() + ": " + String.join(", ", placed) + "; it runs there, short of "
          + (instances - placed.size()) + (!hosts.isEmpty() ? " (name more hosts with --hosts)"
              : " (enroll or label more hosts " + selector(labels) + ")"));
    }
    return new Outcome(placed, warnings, null, null);
  }

  /** The warnings of a stored deployment placed on {@code placed} (for status views). */
  public static List<String> warnings(String deployment, int instances, List<String> placed) {
    if (instances <= placed.size()) {
      return List.of();
    }
    return List.of("deployment " + deployment + " asks for " + instances + " instances (hosts) but is placed on "
        + placed.size() + (placed.isEmpty() ? "" : ": " + String.join(", ", placed)));
  }

  static boolean matches(Map<String, String> hostLabels, Map<String, String> wanted) {
    return !wanted.isEmpty()
        && wanted.entrySet().stream().allMatch(e -> e.getValue().equals(hostLabels.get(e.getKey())));
  }

  private static Outcome refused(Refusal refusal, String message) {
    return new Outcome(List.of(), List.of(), refusal, message);
  }

  /**
   * The first {@link #LISTED} items and how many more: a refusal travels in the status
   * trailer, which clients take only up to 8 KiB, so it never lists a whole fleet.
   */
  public static String shortList(Collection<String> items) {
    if (items.size() <= LISTED) {
      return String.join(", ", items);
    }
    return items.stream().limit(LISTED).collect(Collectors.joining(", ")) + " and " + (items.size() - LISTED)
        + " more";
  }

  private static final int LISTED = 20;

  private static String names(List<HostRecord> hosts) {
    return hosts.isEmpty() ? "none" : shortList(hosts.stream().map(HostRecord::name).toList());
  }

  private static String valuesOf(String key, List<HostRecord> hosts) {
    var values = hosts.stream().map(host -> host.labels().get(key)).filter(Objects::nonNull)
        .collect(Collectors.toCollection(TreeSet::new));
    return values.isEmpty() ? "none (no host has the key " + key + ")" : shortList(values);
  }

  private static String selector(Map<String, String> labels) {
    return labels.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
  }
}
