package io.infraveil.host.grpc;

import io.infraveil.host.grpc.ControlPlaneChannels.Target;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;

/**
 * The control-plane replicas a host or {@code ctl} may talk to, in the order they are tried:
 * {@code a:7443,b:7443,[::1]:7443}. One endpoint is a list of one; a DNS name that resolves to
 * several addresses makes each address a candidate (the name resolver expands it).
 *
 * @param targets at least one, no two alike
 */
public record ControlPlaneEndpoints(List<Target> targets) {

  public ControlPlaneEndpoints {
    targets = List.copyOf(Objects.requireNonNull(targets, "targets"));
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("no control plane endpoint given");
    }
    Set<String> seen = new HashSet<>();
    for (Target target : targets) {
      if (!seen.add(key(target))) {
        throw new IllegalArgumentException("control plane endpoint " + target
            + " is given twice; list each replica once");
      }
    }
  }

  /**
   * Parses a comma-separated list ({@code a:7443,b:7443}; spaces around commas are ignored).
   *
   * @throws IllegalArgumentException naming the list and the element that is wrong (empty, no
   *     port, a bad port, an IPv6 literal without brackets, a duplicate)
   */
  public static ControlPlaneEndpoints parse(String list) {
    if (list == null || list.isBlank()) {
      throw new IllegalArgumentException("no control plane endpoint given: expected HOST:PORT"
          + " or a comma-separated list HOST:PORT,HOST:PORT");
    }
    String[] parts = list.split(",", -1);
    List<Target> targets = new ArrayList<>(parts.length);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i].strip();
      String where = parts.length == 1 ? "" : " in \"" + list + "\"";
      if (part.isEmpty()) {
        throw new IllegalArgumentException("control plane endpoint " + (i + 1) + " of "
            + parts.length + where + " is empty; remove the extra comma");
      }
      Target target;
      try {
        target = Target.parse(part);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(e.getMessage() + where, e);
      }
      if (!seen.add(key(target))) {
        throw new IllegalArgumentException("control plane endpoint " + part + " is given twice"
            + where + "; list each replica once");
      }
      targets.add(target);
    }
    return new ControlPlaneEndpoints(targets);
  }

  /** One endpoint. */
  public static ControlPlaneEndpoints of(Target target) {
    return new ControlPlaneEndpoints(List.of(target));
  }

  /** The first endpoint: names the installation where one name is needed. */
  public Target first() {
    return targets.get(0);
  }

  /**
   * The same endpoints in an order drawn from {@code random}: hosts given one list spread over
   * the replicas instead of all crowding the first.
   */
  public ControlPlaneEndpoints shuffled(RandomGenerator random) {
    Objects.requireNonNull(random, "random");
    List<Target> order = new ArrayList<>(targets);
    for (int i = order.size() - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      Target swap = order.get(i);
      order.set(i, order.get(j));
      order.set(j, swap);
    }
    return new ControlPlaneEndpoints(order);
  }

  /** The list as given on a command line: {@code a:7443,b:7443}. */
  @Override
  public String toString() {
    return targets.stream().map(Target::toString).collect(Collectors.joining(","));
  }

  private static String key(Target target) {
    return target.host().toLowerCase(Locale.ROOT) + " " + target.port();
  }
}
