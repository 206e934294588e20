package io.infraveil.agent;

import java.nio.file.Path;

/** Where a service process's console output goes: {@code <agentDir>/logs/<service>-<i>.*.log}. */
final class LogFiles {

  private LogFiles() {}

  static Path dir(Path agentDir) {
    return agentDir.resolve("logs");
  }

  static Path stdout(Path agentDir, String service, int clusterIndex) {
    return dir(agentDir).resolve(service + "-" + clusterIndex + ".out.log");
  }

  static Path stderr(Path agentDir, String service, int clusterIndex) {
    return dir(agentDir).resolve(service + "-" + clusterIndex + ".err.log");
  }
}
