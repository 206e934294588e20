package io.infraveil.host.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A process's start by the wall clock to within about 20 ms, from its start ticks and the
 * time since boot. {@code ProcessHandle.Info.startInstant} adds the ticks to the boot time
 * of {@code /proc/stat}, which the kernel gives in whole seconds, so that instant can be up to
 * a second off: too coarse to say how long a deploy's start took. Here the start is placed
 * back from now by how long ago it was, both counted on the same boot clock.
 */
public final class ProcessStartClock {

  /** Linux reports {@code starttime} in USER_HZ, which is 100 on every architecture. */
  private static final long TICKS_PER_SECOND = 100;
  private static final Path UPTIME = Path.of("/proc/uptime");

  private ProcessStartClock() {}

  /** When the process that started {@code startTicks} after boot began, as seen at {@code now}. */
  public static Optional<Instant> startedAt(long startTicks, Instant now) {
    if (startTicks <= ProcessIdentity.UNKNOWN_TICKS) {
      return Optional.empty();
    }
    return uptime().map(up -> now.minus(up.minus(ticks(startTicks))));
  }

  static Duration ticks(long ticks) {
    return Duration.ofMillis(ticks * 1000 / TICKS_PER_SECOND);
  }

  /** Time since boot, from the first field of {@code /proc/uptime} (seconds, two decimals). */
  static Optional<Duration> uptime() {
    try {
      String first = Files.readString(UPTIME).trim().split("\\s+")[0];
      return Optional.of(Duration.ofMillis(Math.round(Double.parseDouble(first) * 1000)));
    } catch (IOException | RuntimeException unreadable) {
      return Optional.empty(); // not Linux, or /proc not mounted
    }
  }
}
