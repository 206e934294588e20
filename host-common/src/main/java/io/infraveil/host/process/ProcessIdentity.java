package io.infraveil.host.process;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A process as it can be recognised after a restart: pid and start time. Pids are reused, so a
 * saved pid alone could name somebody else's process; both must match to adopt it.
 */
public record ProcessIdentity(long pid, Instant startedAt) {

  public ProcessIdentity {
    if (pid <= 0) {
      throw new IllegalArgumentException("pid must be positive, got " + pid);
    }
    Objects.requireNonNull(startedAt, "startedAt");
  }

  /** The identity of a live process, if the operating system reports its start time. */
  public static Optional<ProcessIdentity> of(ProcessHandle handle) {
    return handle.info().startInstant().map(start -> new ProcessIdentity(handle.pid(), start));
  }

  /** The identity of a live process by pid. */
  public static Optional<ProcessIdentity> ofPid(long pid) {
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).flatMap(ProcessIdentity::of);
  }

  /** The live process this identity names, or empty if it is gone or the pid was reused. */
  public Optional<ProcessHandle> find() {
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(handle -> handle.info().startInstant().map(startedAt::equals).orElse(false));
  }

  @JsonIgnore // a live check, not part of the saved identity
  public boolean isAlive() {
    return find().isPresent();
  }
}
