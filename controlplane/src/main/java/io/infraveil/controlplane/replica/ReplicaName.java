package io.infraveil.controlplane.replica;

import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The name this control plane goes by among the replicas of one installation
 * ({@code infraveil.replica-name}); without one, the machine's host name and the process id,
 * unique among processes running at the same time.
 */
@Singleton
public final class ReplicaName {

  private final String name;

  public ReplicaName(@Value("${infraveil.replica-name:}") String configured) {
    this.name = configured == null || configured.isBlank() ? fallback() : configured.strip();
  }

  public String name() {
    return name;
  }

  private static String fallback() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "localhost";
    }
    return host + "-" + ProcessHandle.current().pid();
  }

  @Override
  public String toString() {
    return name;
  }
}
