package io.infraveil.controlplane.replica;

import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The name this control plane goes by among the replicas of one installation
 * ({@code infraveil.replica-name}): in the replicas table, the leader lease, host presence and
 * the change log alike. Without one, {@code <hostname>:<grpc port>}; with gRPC port 0 (tests
 * starting several control planes in one JVM) the host name, process id and a counter instead,
 * since the port is not known yet when the name is needed.
 */
@Singleton
public final class ReplicaName {

  private static final AtomicInteger UNNAMED_IN_THIS_JVM = new AtomicInteger();

  private final String name;

  /** A configured name, or one made from the host name and process id. */
  public ReplicaName(String configured) {
    this(configured, 0);
  }

  @jakarta.inject.Inject
  public ReplicaName(@Value("${infraveil.replica-name:}") String configured,
      @Value("${grpc.server.port:7443}") int grpcPort) {
    this.name = configured == null || configured.isBlank() ? fallback(grpcPort) : configured.strip();
    if (name.length() > 200) {
      throw new IllegalArgumentException("infraveil.replica-name is " + name.length()
          + " characters; use at most 200");
    }
  }

  public String name() {
    return name;
  }

  private static String fallback(int grpcPort) {
    return grpcPort > 0 ? hostname() + ":" + grpcPort
        : hostname() + "-" + ProcessHandle.current().pid() + "-" + UNNAMED_IN_THIS_JVM.incrementAndGet();
  }

  static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
