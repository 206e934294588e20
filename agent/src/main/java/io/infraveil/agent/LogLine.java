package io.infraveil.agent;

import java.time.Instant;
import java.util.Objects;

/** One complete console line of a service process, as read from its log file. */
public record LogLine(Instant at, String service, int clusterIndex, Stream stream, String text,
    long sequence) {

  /** Which output the line came from. */
  public enum Stream { STDOUT, STDERR }

  public LogLine {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(stream, "stream");
    Objects.requireNonNull(text, "text");
  }
}
