package io.infraveil.appconfig;

import java.util.Objects;

/**
 * One thing wrong with a {@code config.yaml}: the file, the 1-based line (0 when it concerns the
 * whole file), the field path such as {@code services.api.clusters}, and what is wrong.
 */
public record ConfigProblem(String file, int line, String fieldPath, String message) {

  public ConfigProblem {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(fieldPath, "fieldPath");
    Objects.requireNonNull(message, "message");
    if (line < 0) {
      throw new IllegalArgumentException("line must be >= 0, got " + line);
    }
  }

  /** {@code config.yaml:7: services.api.clusters: must be a positive integer, got "two"}. */
  @Override
  public String toString() {
    StringBuilder text = new StringBuilder(file);
    if (line > 0) {
      text.append(':').append(line);
    }
    text.append(": ");
    if (!fieldPath.isEmpty()) {
      text.append(fieldPath).append(": ");
    }
    return text.append(message).toString();
  }
}
