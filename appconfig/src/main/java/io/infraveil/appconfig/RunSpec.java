package io.infraveil.appconfig;

import java.util.List;

/** The {@code run} block: shell command strings, each run with {@code sh -c}, in order. */
public record RunSpec(List<String> preflight, List<String> start, List<String> postflight) {

  public RunSpec {
    preflight = List.copyOf(preflight);
    start = List.copyOf(start);
    postflight = List.copyOf(postflight);
    if (start.isEmpty()) {
      throw new IllegalArgumentException("run.start needs at least one command");
    }
  }
}
