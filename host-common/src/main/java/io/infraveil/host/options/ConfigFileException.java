package io.infraveil.host.options;

import java.util.List;

/**
 * A config file that cannot be used: every problem found, each as {@code FILE:LINE: KEY:
 * what is wrong}. Programs exit with their usage-error code (2) on it.
 */
public final class ConfigFileException extends IllegalArgumentException {

  private final List<String> problems;

  ConfigFileException(List<String> problems) {
    super(String.join("\n", problems));
    this.problems = List.copyOf(problems);
  }

  ConfigFileException(String problem) {
    this(List.of(problem));
  }

  /** One line per problem, in file order. */
  public List<String> problems() {
    return problems;
  }
}
