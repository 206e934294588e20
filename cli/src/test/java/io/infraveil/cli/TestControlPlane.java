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
 * file pointing at it.
 */
final class TestControlPlane implements AutoCloseable {

  final Path pkiDir;
  final PkiDirectory pki;
  final ControlPlane controlPlane;
  final Path context;

  TestControlPlane(Path dir) throws IOException {
    this.pkiDir = dir.resolve("pki");
    this.pki = new PkiDirectory(pkiDir, Clock.systemUTC());
    pki.init("test.infraveil");
    pki.issue(Identity.Kind.OPERATOR, "alice", List.of(), Duration.ofHours(1));
    this.controlPlane = ControlPlane.start(dir.resolve("data"), pkiDir, 0, Map.of());
    this.context = dir.resolve("ctl.yaml");
    Files.writeString(context, """
        # written by the test
        endpoint: localhost:%d
        ca: pki/ca.crt
        cert: pki/alice.crt
        key: pki/alice.key
        """.formatted(controlPlane.grpcPort()));
  }

  int port() {
    return controlPlane.grpcPort();
  }

  @Override
  public void close() {
    controlPlane.close();
  }
}
