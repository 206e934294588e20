package io.infraveil.cli.ctl;

import io.infraveil.cli.CliException;
import io.infraveil.proto.v1.Host;
import io.infraveil.proto.v1.ListHostsRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * {@code --labels k=v,k2=v2} as typed. A map would keep only the last of two values for one key
 * and deploy somewhere the operator did not ask for, so a key given twice is refused here, with
 * the values hosts have for it (asked of the control plane only then).
 */
final class LabelSelector {

  private LabelSelector() {}

  /** The selector, or a usage error naming what is wrong and the values that exist. */
  static Map<String, String> parse(List<String> typed, Supplier<List<Host>> hosts) {
    Map<String, List<String>> byKey = new LinkedHashMap<>();
    for (String pair : typed) {
      int eq = pair.indexOf('=');
      if (eq <= 0 || eq == pair.length() - 1) {
        throw CliException.usage("--labels " + pair + " is not key=value (for example --labels zone=a,tier=web)");
      }
      byKey.computeIfAbsent(pair.substring(0, eq), key -> new ArrayList<>()).add(pair.substring(eq + 1));
    }
    Map<String, String> selector = new LinkedHashMap<>();
    for (var entry : byKey.entrySet()) {
      if (entry.getValue().size() > 1) {
        String key = entry.getKey();
        throw CliException.usage("--labels gives " + key + " more than one value ("
            + String.join(", ", entry.getValue()) + "): all labels must match and a host has one value per key, so "
            + "no host could match; deploy once per value instead. Values of " + key + " on hosts: "
            + valuesOf(key, hosts.get()));
      }
      selector.put(entry.getKey(), entry.getValue().get(0));
    }
    return selector;
  }

  /** The hosts, for messages; asked of the control plane. */
  static Supplier<List<Host>> hostsOf(Connection connection) {
    return () -> connection.unary().listHosts(ListHostsRequest.getDefaultInstance()).getHostsList();
  }

  private static String valuesOf(String key, List<Host> hosts) {
    var values = hosts.stream().map(host -> host.getLabelsMap().get(key)).filter(Objects::nonNull)
        .collect(Collectors.toCollection(TreeSet::new));
    return values.isEmpty() ? "none (no host has the label " + key + ")"
        : values.stream().collect(Collectors.joining(", "));
  }
}
