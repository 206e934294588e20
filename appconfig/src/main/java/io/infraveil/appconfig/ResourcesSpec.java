package io.infraveil.appconfig;

import java.util.Locale;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The {@code resources} block: limits the host enforces on every process of one service
 * instance (its cgroup). Each limit is optional; an empty block limits nothing.
 *
 * @param memoryBytes hard memory limit; the kernel OOM-kills the instance beyond it
 * @param cpus CPU time as a share of one core per period (0.5 = half a core)
 * @param pids maximum number of processes and threads
 */
public record ResourcesSpec(OptionalLong memoryBytes, OptionalDouble cpus, OptionalLong pids) {

  public static final ResourcesSpec NONE =
      new ResourcesSpec(OptionalLong.empty(), OptionalDouble.empty(), OptionalLong.empty());

  /** The smallest memory limit accepted: below it even a shell cannot start. */
  public static final long MIN_MEMORY_BYTES = 4L * 1024 * 1024;
  public static final double MIN_CPUS = 0.01;
  public static final double MAX_CPUS = 1024;

  public ResourcesSpec {
    java.util.Objects.requireNonNull(memoryBytes, "memoryBytes");
    java.util.Objects.requireNonNull(cpus, "cpus");
    java.util.Objects.requireNonNull(pids, "pids");
    if (memoryBytes.isPresent() && memoryBytes.getAsLong() < MIN_MEMORY_BYTES) {
      throw new IllegalArgumentException("memory must be at least 4Mi, got "
          + memoryBytes.getAsLong() + " bytes");
    }
    if (cpus.isPresent() && (cpus.getAsDouble() < MIN_CPUS || cpus.getAsDouble() > MAX_CPUS)) {
      throw new IllegalArgumentException("cpu must be between 0.01 and 1024, got "
          + cpus.getAsDouble());
    }
    if (pids.isPresent() && pids.getAsLong() < 1) {
      throw new IllegalArgumentException("pids must be positive, got " + pids.getAsLong());
    }
  }

  public boolean isEmpty() {
    return memoryBytes.isEmpty() && cpus.isEmpty() && pids.isEmpty();
  }

  /** A memory size as config.yaml writes it: 268435456 → "256Mi". */
  public static String formatBytes(long bytes) {
    String[] units = {"Ki", "Mi", "Gi", "Ti"};
    String unit = "";
    long value = bytes;
    for (String next : units) {
      if (value % 1024 != 0 || value == 0) {
        break;
      }
      value /= 1024;
      unit = next;
    }
    return value + unit;
  }

  /**
   * Parses a memory size: a whole number of bytes, or one followed by {@code Ki Mi Gi Ti}
   * (powers of 1024) or {@code K M G T} (powers of 1000), as Kubernetes writes them.
   * Returns -1 when the text is not a size.
   */
  static long parseBytes(String text) {
    String t = text.trim();
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("([0-9]{1,15})(Ki|Mi|Gi|Ti|K|M|G|T)?").matcher(t);
    if (!m.matches()) {
      return -1;
    }
    long value = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "" : m.group(2).toUpperCase(Locale.ROOT);
    long factor = switch (unit) {
      case "" -> 1L;
      case "KI" -> 1L << 10;
      case "MI" -> 1L << 20;
      case "GI" -> 1L << 30;
      case "TI" -> 1L << 40;
      case "K" -> 1_000L;
      case "M" -> 1_000_000L;
      case "G" -> 1_000_000_000L;
      case "T" -> 1_000_000_000_000L;
      default -> throw new AssertionError("unit " + unit);
    };
    try {
      return Math.multiplyExact(value, factor);
    } catch (ArithmeticException e) {
      return -1;
    }
  }
}
