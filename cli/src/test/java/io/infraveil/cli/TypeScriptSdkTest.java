package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TypeScript SDK (sdk/typescript, generated from proto/ by buf and compiled by
 * scripts/install-sdk-typescript.sh) against a real control plane over mutual TLS: its smoke
 * script lists hosts, opens a Watch stream, puts a deployment and sees it announced; what it
 * put is what ctl reads back. A certificate from another CA gets nothing.
 */
class TypeScriptSdkTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  TestControlPlane server;
  static Path sdk;

  @org.junit.jupiter.api.BeforeAll
  static void installOnce() throws Exception {
    sdk = install();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void sdkListsHostsPutsADeploymentAndWatchesItOverMutualTls() throws Exception {
    server = new TestControlPlane(dir);
    enroll("web-1");
    Path app = Files.createDirectories(dir.resolve("app"));
    Files.writeString(app.resolve("config.yaml"), """
        services:
          api:
            run:
              start: [ "sleep 1000" ]
        """);
    Cli.Result deployed = ctl("-o", "json", "deploy", app.toString(), "--name", "shop", "--hosts", "web-1");
    assertEquals(0, deployed.code(), deployed::toString);
    String sha = JSON.readTree(deployed.out()).path("upload").path("payload").path("sha256").asText();
    assertEquals(64, sha.length(), deployed::toString);

    Result smoke = smoke(sdk, server.pkiDir.resolve("alice.crt"), server.pkiDir.resolve("alice.key"), sha);
    assertEquals(0, smoke.code(), smoke::toString);
    JsonNode got = JSON.readTree(smoke.lastLine());
    assertEquals("shop-ts", got.path("deployment").asText(), smoke::toString);
    assertEquals(sha, got.path("payloadSha256").asText(), smoke::toString);
    assertEquals("shop-ts", got.path("watched").path("deployment").asText(), smoke::toString);
    assertTrue(!got.path("watched").path("text").asText().isBlank(), smoke::toString);

    assertEquals("[\"web-1\"]", got.path("hosts").toString(), "ListHosts names the enrolled host");
    JsonNode deployments = JSON.readTree(ctl("-o", "json", "deployments").out()).path("deployments");
    JsonNode put = null;
    for (JsonNode d : deployments) {
      if (d.path("name").asText().equals("shop-ts")) {
        put = d;
      }
    }
    assertTrue(put != null, "ctl sees the deployment the SDK put: " + deployments);
    assertEquals(sha, put.path("payload").path("sha256").asText());
  }

  @Test
  void aCertificateFromAnotherCaIsRefused() throws Exception {
    server = new TestControlPlane(dir);
    var other = new io.infraveil.certs.PkiDirectory(dir.resolve("other-pki"), java.time.Clock.systemUTC());
    other.init("test.infraveil");
    var mallory = other.issue(io.infraveil.certs.Identity.Kind.OPERATOR, "mallory", List.of(), Duration.ofHours(1));
    Result smoke = smoke(sdk, mallory.certFile(), mallory.keyFile(), "0".repeat(64));
    assertEquals(1, smoke.code(), smoke::toString);
    assertTrue(smoke.output().contains("smoke failed"), smoke::toString);
  }

  /** Enrolls a host the way a launcher does: join token, then an anonymous Enroll with a CSR. */
  private void enroll(String name) throws Exception {
    String token = JSON.readTree(ctl("-o", "json", "tokens", "create", name).out()).path("joinToken").asText();
    var channel = io.grpc.netty.NettyChannelBuilder.forAddress("localhost", server.controlPlane.grpcPort())
        .sslContext(io.infraveil.certs.TlsContexts.client(List.of(io.infraveil.certs.Pem.readCertificate(
            server.pkiDir.resolve("ca.crt"))), null, null)).build();
    try {
      io.infraveil.proto.v1.EnrollmentServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
          .enroll(io.infraveil.proto.v1.EnrollRequest.newBuilder().setJoinToken(token).setHostName(name)
              .setCsrPem(io.infraveil.certs.Csrs.createPem(io.infraveil.certs.KeyPairs.ecP256(), name)).build());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  record Result(int code, String output) {
    String lastLine() {
      String[] lines = output.strip().split("\n");
      return lines[lines.length - 1];
    }
  }

  private Result smoke(Path sdk, Path cert, Path key, String sha) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(List.of("node", "dist/test/smoke.js")).directory(sdk.toFile())
        .redirectErrorStream(true);
    builder.environment().putAll(Map.of(
        "INFRAVEIL_ENDPOINT", "localhost:" + server.controlPlane.grpcPort(),
        "INFRAVEIL_CA", server.pkiDir.resolve("ca.crt").toString(),
        "INFRAVEIL_CERT", cert.toString(),
        "INFRAVEIL_KEY", key.toString(),
        "SMOKE_DEPLOYMENT", "shop-ts",
        "SMOKE_PAYLOAD_SHA256", sha,
        "SMOKE_HOST", "web-1"));
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(90, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("the smoke script did not finish in 90 s:\n" + output);
    }
    return new Result(process.exitValue(), output);
  }

  /** Runs scripts/install-sdk-typescript.sh (npm ci, buf generate, tsc); prints the SDK dir. */
  static Path install() throws Exception {
    Path root = ExternalProcess.repoRoot();
    List<String> command = new ArrayList<>(List.of("bash", root.resolve("scripts/install-sdk-typescript.sh").toString()));
    ExternalProcess.Result result = ExternalProcess.run(command, root, Duration.ofMinutes(5));
    assertEquals(0, result.code(), () -> "scripts/install-sdk-typescript.sh failed (it needs Node.js 20+ and npm):\n"
        + result);
    Path sdk = root.resolve("sdk/typescript");
    assertTrue(Files.exists(sdk.resolve("dist/test/smoke.js")), result::toString);
    return sdk;
  }

  private Cli.Result ctl(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "ctl";
    System.arraycopy(args, 0, all, 1, args.length);
    return Cli.run(Map.of("INFRAVEIL_CONTEXT", server.context.toString()), all);
  }
}
