package io.infraveil.cli;

import io.infraveil.certs.Identity;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.controlplane.ControlPlane;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A control plane on loopback port 0 with a fresh PKI (CA, operator "alice") and a ctl context
 * file pointing at its gRPC and HTTPS ports.
 */
final class TestControlPlane implements AutoCloseable {

  final Path pkiDir;
  final PkiDirectory pki;
  final ControlPlane controlPlane;
  final Path context;

  TestControlPlane(Path dir) throws IOException {
    this(dir, Map.of());
  }

  /** With extra control plane properties, such as shorter incident intervals. */
  TestControlPlane(Path dir, Map<String, Object> extra) throws IOException {
    this.pkiDir = dir.resolve("pki");
    this.pki = new PkiDirectory(pkiDir, Clock.systemUTC());
    pki.init("test.infraveil");
    pki.issue(Identity.Kind.OPERATOR, "alice", List.of(), Duration.ofHours(1));
    this.controlPlane = ControlPlane.start(dir.resolve("data"), pkiDir, 0, extra);
    this.context = dir.resolve("ctl.yaml");
    Files.writeString(context, """
        # written by the test
        endpoint: localhost:%d
        ca: pki/ca.crt
        cert: pki/alice.crt
        key: pki/alice.key
        http: https://localhost:%d
        """.formatted(controlPlane.grpcPort(), controlPlane.httpPort()));
  }

  /**
   * Records {@code name} as an enrolled host (its row only, no launcher behind it), so
   * deployments may be placed on it: placement refuses hosts that are not enrolled.
   */
  void enrolled(String name, Map<String, String> labels) {
    controlPlane.bean(io.infraveil.controlplane.store.HostStore.class).upsert(name,
        "spiffe://test.infraveil/host/" + name, labels, new byte[32], java.time.Instant.now());
  }

  /**
   * Stands in for a launcher and agent on {@code host} that run whatever the host's desired
   * state names for {@code deployment}, every service healthy: the reports a real host would
   * send, fed every 200 ms to the same ingest and liveness a Sync and Heartbeat stream feed,
   * until the control plane closes.
   */
  void reportsHealthy(String host, String deployment) {
    var desired = controlPlane.bean(io.infraveil.controlplane.deploy.DesiredStates.class);
    var liveness = controlPlane.bean(io.infraveil.controlplane.hosts.HostLiveness.class);
    var ingest = controlPlane.bean(io.infraveil.controlplane.ingest.ReportIngest.class);
    Thread reporter = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        try {
          liveness.reported(host, io.infraveil.proto.v1.HostReport.getDefaultInstance());
          desired.find(host, deployment).ifPresent(entry -> ingest.agentReported(host,
              io.infraveil.proto.v1.HeartbeatRequest.newBuilder().setDeployment(deployment)
                  .setPayload(entry.getPayload())
                  .addServices(io.infraveil.proto.v1.ServiceStatus.newBuilder().setName("api")
                      .setState(io.infraveil.proto.v1.ServiceState.SERVICE_STATE_RUNNING)
                      .setHealth(io.infraveil.proto.v1.HealthStatus.HEALTH_STATUS_HEALTHY))
                  .build()));
          Thread.sleep(200);
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          return; // the control plane closed
        }
      }
    }, "reports-" + host);
    reporter.setDaemon(true);
    reporter.start();
    reporters.add(reporter);
  }

  private final List<Thread> reporters = new java.util.concurrent.CopyOnWriteArrayList<>();

  int port() {
    return controlPlane.grpcPort();
  }

  @Override
  public void close() {
    reporters.forEach(Thread::interrupt);
    controlPlane.close();
  }
}
