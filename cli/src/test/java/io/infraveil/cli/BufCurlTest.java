package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import io.infraveil.controlplane.store.SecurityEventStore;
import io.infraveil.proto.v1.ListHostsResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A generic gRPC client with nothing but the CA and an operator certificate can discover and
 * call the control plane (server reflection over mTLS); without a certificate it is told it
 * needs one.
 */
class BufCurlTest {

  @TempDir Path dir;
  TestControlPlane server;
  Path buf;

  @BeforeEach
  void start() throws Exception {
    buf = Buf.install();
    server = new TestControlPlane(dir);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private ExternalProcess.Result curl(boolean withCertificate, String... rest) throws Exception {
    List<String> command = new ArrayList<>(List.of(buf.toString(), "curl", "--protocol", "grpc",
        "--cacert", server.pkiDir.resolve("ca.crt").toString()));
    if (withCertificate) {
      command.addAll(List.of("--cert", server.pkiDir.resolve("alice.crt").toString(),
          "--key", server.pkiDir.resolve("alice.key").toString()));
    }
    command.addAll(List.of(rest));
    return ExternalProcess.run(command, dir, Duration.ofMinutes(1));
  }

  private String url(String path) {
    return "https://localhost:" + server.port() + path;
  }

  @Test
  void listsServicesThroughReflection() throws Exception {
    ExternalProcess.Result list = curl(true, "--list-methods", url(""));

    assertEquals(0, list.code(), list::toString);
    assertTrue(list.output().contains("infraveil.v1.OperatorService/ListHosts"), list::toString);
    assertTrue(list.output().contains("grpc.health.v1.Health/Check"), list::toString);
  }

  @Test
  void callsListHostsWithJson() throws Exception {
    ExternalProcess.Result call = curl(true, "-d", "{}", url("/infraveil.v1.OperatorService/ListHosts"));

    assertEquals(0, call.code(), call::toString);
    ListHostsResponse.Builder parsed = ListHostsResponse.newBuilder();
    JsonFormat.parser().merge(call.output(), parsed);
    assertEquals(0, parsed.getHostsCount(), call::toString);
  }

  @Test
  void refusesACallWithoutClientCertificateSayingACertificateIsNeeded() throws Exception {
    ExternalProcess.Result call = curl(false, "-d", "{}", url("/infraveil.v1.OperatorService/ListHosts"));

    assertNotEquals(0, call.code(), call::toString);
    // Reflection answers anyone, so buf reaches the method and shows why it was refused.
    assertTrue(call.toString().contains("unauthenticated"), call::toString);
    assertTrue(call.toString().contains("present a client certificate"), call::toString);
    assertTrue(!call.toString().contains("failed to find service"), call::toString);
    assertTrue(server.controlPlane.bean(SecurityEventStore.class).recent(10).stream()
            .anyMatch(event -> event.kind().equals("NO_CLIENT_CERTIFICATE")),
        "no NO_CLIENT_CERTIFICATE security event recorded\n" + call);
  }
}
