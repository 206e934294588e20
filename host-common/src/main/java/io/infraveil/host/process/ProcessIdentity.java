package io.infraveil.host.process;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A process as it can be recognised after a restart. Pids are reused, so a saved pid alone
 * could name somebody else's process: the process is the same only when the raw start ticks
 * ({@code starttime}, field 22 of {@code /proc/PID/stat}) match too.
 *
 * <p>{@code startedAt} is the wall-clock start for people and reports, never for matching: the
 * JDK derives it from the boot time in {@code /proc/stat}, which moves whenever the system
 * clock is stepped, so a launcher restarted after an NTP step would see every live process as
 * gone. Identities saved before the ticks were recorded have {@code startTicks} 0
 * ({@link #UNKNOWN_TICKS}) and match by {@code startedAt} as they used to; {@link #upgraded()}
 * replaces such an identity by a full one while the process still matches.
 *
 * @param pid the process id
 * @param startedAt when the process started, by the wall clock at the time it was read
 * @param startTicks raw start ticks after boot, or {@link #UNKNOWN_TICKS}
 */
public record ProcessIdentity(long pid, Instant startedAt, long startTicks) {

  /** The start ticks of an identity saved before they were recorded. */
  public static final long UNKNOWN_TICKS = 0;

  public ProcessIdentity {
    if (pid <= 0) {
      throw new IllegalArgumentException("pid must be positive, got " + pid);
    }
    Objects.requireNonNull(startedAt, "startedAt");
    if (startTicks < 0) {
      throw new IllegalArgumentException("startTicks must be >= 0, got " + startTicks);
    }
  }

  /**
   * An identity without start ticks, matched by start instant as state files written before
   * the ticks were recorded are. Prefer {@link #of} for a live process.
   */
  public ProcessIdentity(long pid, Instant startedAt) {
    this(pid, startedAt, UNKNOWN_TICKS);
  }

  /** The identity of a live process, if the operating system reports its start. */
  public static Optional<ProcessIdentity> of(ProcessHandle handle) {
    Optional<Instant> start = handle.info().startInstant();
    Optional<ProcStat> stat = ProcStat.read(handle.pid());
    if (start.isEmpty() || stat.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new ProcessIdentity(handle.pid(), start.get(), stat.get().startTicks()));
  }

  /** The identity of a live process by pid. */
  public static Optional<ProcessIdentity> ofPid(long pid) {
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).flatMap(ProcessIdentity::of);
  }

  /** The live process this identity names, or empty if it is gone or the pid was reused. */
  public Optional<ProcessHandle> find() {
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(this::sameStart);
  }

  @JsonIgnore // a live check, not part of the saved identity
  public boolean isAlive() {
    return find().isPresent();
  }

  /** True when the start ticks were recorded (not an identity from an older state file). */
  @JsonIgnore
  public boolean hasStartTicks() {
    return startTicks != UNKNOWN_TICKS;
  }

  /**
   * This identity with its start ticks filled in from the live process when they were not
   * recorded and the process still matches by {@code startedAt}; otherwise this identity.
   */
  public ProcessIdentity upgraded() {
    if (hasStartTicks()) {
      return this;
    }
    return find()
        .flatMap(handle -> ProcStat.startTicksOf(pid))
        .map(ticks -> new ProcessIdentity(pid, startedAt, ticks))
        .orElse(this);
  }

  /**
   * True when this process started no earlier than {@code other}: by ticks when both have
   * them (immune to clock steps), else by the recorded wall-clock start.
   */
  public boolean startedNoEarlierThan(ProcessIdentity other) {
    if (hasStartTicks() && other.hasStartTicks()) {
      return startTicks >= other.startTicks;
    }
    return !startedAt.isBefore(other.startedAt);
  }

  private boolean sameStart(ProcessHandle handle) {
    if (hasStartTicks()) {
      return ProcStat.startTicksOf(pid).map(ticks -> ticks == startTicks).orElse(false);
    }
    return handle.info().startInstant().map(startedAt::equals).orElse(false);
  }
}
