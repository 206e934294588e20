package io.infraveil.controlplane;

import io.infraveil.controlplane.http.OperationsHttpServer;
import io.infraveil.controlplane.replica.Replicas;
import io.micronaut.context.ApplicationContext;
import io.micronaut.grpc.server.GrpcEmbeddedServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Starts and stops a control plane in this JVM: the command line and the tests both go through
 * here. Closing it shuts the gRPC server down gracefully and closes the database.
 */
public final class ControlPlane implements AutoCloseable {

  private final ApplicationContext context;
  private final GrpcEmbeddedServer server;

  private ControlPlane(ApplicationContext context) {
    this.context = context;
    this.server = context.getBean(GrpcEmbeddedServer.class);
  }

  /**
   * Starts with a data dir, a PKI dir, a gRPC port (0 for any) and extra properties. With gRPC
   * port 0 and no {@code infraveil.http-port} in {@code extra}, the HTTP port is any free port
   * too, so in-process control planes never fight over 7080.
   */
  public static ControlPlane start(Path dataDir, Path certsDir, int grpcPort, Map<String, Object> extra) {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(certsDir, "certsDir");
    Path data = dataDir.toAbsolutePath().normalize();
    Map<String, Object> properties = new HashMap<>();
    properties.put("infraveil.data-dir", data.toString());
    properties.put("infraveil.certs-dir", certsDir.toAbsolutePath().normalize().toString());
    properties.put("grpc.server.port", grpcPort);
    if (grpcPort == 0) {
      properties.put("infraveil.http-port", 0);
    }
    properties.putAll(extra);
    StoreDatabase database = StoreDatabase.resolve(data, properties, System.getenv());
    properties.putAll(database.contextProperties());
    database.checkReachable();
    database.announce();
    refuseNewerSchema(data, database);
    ApplicationContext context = ApplicationContext.builder()
        .properties(properties)
        .deduceEnvironment(false)
        .start();
    try {
      // A control plane with another installation's master key stops here, before serving.
      context.getBean(MasterKeyFingerprint.class).verify();
      // Desired states follow from hosts and deployments: recomputed at start, so a change whose
      // recompute another control plane (or an older release) never stored reaches its hosts.
      context.getBean(io.infraveil.controlplane.deploy.RolloutHook.class); // holds hosts back first
      context.getBean(io.infraveil.controlplane.deploy.DesiredStates.class).recomputeAll();
      GrpcEmbeddedServer server = context.getBean(GrpcEmbeddedServer.class);
      if (!server.isRunning()) {
        server.start();
      }
      // The default replica name carries the gRPC port, known only once it is bound.
      context.getBean(Replicas.class).start(server.getServer().getPort());
      return new ControlPlane(context);
    } catch (RuntimeException e) {
      context.close();
      throw e;
    }
  }

  /**
   * A database migrated by a newer release is refused before anything opens it for writing
   * (an existing H2 file, or any database named by URL); a new data dir has nothing to check.
   */
  private static void refuseNewerSchema(Path data, StoreDatabase database) {
    if (database.embedded()) {
      String file = database.url().substring("jdbc:h2:file:".length()).split(";", 2)[0];
      if (!Files.exists(Path.of(file + ".mv.db"))) {
        return;
      }
    }
    SchemaVersionGuard.refuseNewerSchema(database.url(), database.username(), database.password(),
        database.describe(data));
  }

  /** The port the gRPC server listens on. */
  public int grpcPort() {
    return server.getServer().getPort();
  }

  /** The port of the HTTPS status page, operations API and metrics. */
  public int httpPort() {
    return context.getBean(OperationsHttpServer.class).port();
  }

  public ApplicationContext context() {
    return context;
  }

  public <T> T bean(Class<T> type) {
    return context.getBean(type);
  }

  @Override
  public synchronized void close() {
    if (!context.isRunning()) {
      return; // closed already
    }
    // The lease goes first, so another replica leads at once instead of after the lease runs out.
    context.getBean(Replicas.class).stop();
    if (server.isRunning()) {
      // Long-lived streams never end on their own: end them first, or the server's drain
      // waits out its whole deadline on every stop.
      context.getBean(io.infraveil.controlplane.auth.OpenStreams.class)
          .closeLongLived("the control plane is stopping; reconnect (to another replica if there is one)");
      server.stop();
    }
    context.close();
  }
}
