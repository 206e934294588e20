package io.infraveil.host.process.cgroup;

import io.infraveil.host.process.ProcessGroups;
import java.util.List;

/** Signals to single pids: TERM and KILL without forking, others through ProcessGroups. */
final class Signals {

  private Signals() {}

  static void send(List<Long> pids, String signal) {
    for (long pid : pids) {
      if (pid == ProcessHandle.current().pid()) {
        continue; // never the agent itself, should it have joined by mistake
      }
      switch (signal) {
        case "TERM" -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        case "KILL" -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        default -> ProcessGroups.signal(pid, signal);
      }
    }
  }
}
