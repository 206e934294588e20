package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.Pem;
import io.infraveil.proto.v1.CreateJoinTokenResponse;
import io.infraveil.proto.v1.ListHostsResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `ctl` against a real control plane over mTLS on loopback, called the way a shell calls it. */
class CtlCommandTest {

  @TempDir Path dir;
  TestControlPlane server;

  @BeforeEach
  void start() throws Exception {
    server = new TestControlPlane(dir);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Cli.Result ctl(String... args) {
    return Cli.run(Map.of("INFRAVEIL_CONTEXT", server.context.toString()),
        prepend("ctl", args));
  }

  private static String[] prepend(String first, String... rest) {
    String[] all = new String[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }

  @Test
  void hostsAsJsonParsesBackIntoTheResponse() throws Exception {
    Cli.Result result = ctl("hosts", "-o", "json");

    assertEquals(0, result.code(), result::toString);
    ListHostsResponse.Builder parsed = ListHostsResponse.newBuilder();
    JsonFormat.parser().merge(result.out(), parsed);
    assertEquals(0, parsed.getHostsCount());
    assertTrue(result.out().contains("\"hosts\": []"), result::toString);
    assertEquals("", result.err());
  }

  @Test
  void contextOptionWorksBeforeAndAfterTheCommand() {
    Cli.Result before = Cli.run("ctl", "--context", server.context.toString(), "-o", "json", "hosts");
    Cli.Result after = Cli.run("ctl", "hosts", "--context", server.context.toString(), "-o", "json");
    assertEquals(0, before.code(), before::toString);
    assertEquals(0, after.code(), after::toString);
    assertEquals(before.out(), after.out());
  }

  @Test
  void tokensCreatePrintsAOneTimeTokenAndHowToUseIt() {
    Cli.Result result = ctl("tokens", "create", "web-1", "--ttl", "30m", "--label", "env=prod");

    assertEquals(0, result.code(), result::toString);
    assertTrue(result.out().lines().anyMatch(line -> line.startsWith("ivj_")), result::toString);
    assertTrue(result.out().contains("--name web-1"), result::toString);
    assertTrue(result.out().contains("--control-plane localhost:" + server.port()), result::toString);
  }

  // --replace reaches the control plane, and a second token says it cancelled the first.
  @Test
  void tokensCreateWithReplaceSaysWhatItWillDo() {
    assertEquals(0, ctl("tokens", "create", "web-3").code());

    Cli.Result result = ctl("tokens", "create", "web-3", "--replace");

    assertEquals(0, result.code(), result::toString);
    assertTrue(result.out().contains("it replaces the host now enrolled as web-3: enrolling revokes that"
        + " host's certificate"), result::toString);
    assertTrue(result.out().contains("1 older unused token(s) for web-3 no longer work"), result::toString);
  }

  @Test
  void tokensCreateAsJsonHonoursTheTtl() throws Exception {
    Instant before = Instant.now();
    Cli.Result result = ctl("tokens", "create", "web-2", "--ttl", "2h", "-o", "json");

    assertEquals(0, result.code(), result::toString);
    CreateJoinTokenResponse.Builder parsed = CreateJoinTokenResponse.newBuilder();
    JsonFormat.parser().merge(result.out(), parsed);
    assertTrue(parsed.getJoinToken().startsWith("ivj_"), result::toString);
    Instant expires = Instant.ofEpochSecond(parsed.getExpiresAt().getSeconds());
    assertTrue(!expires.isBefore(before.plus(Duration.ofHours(2)).minusSeconds(5))
        && !expires.isAfter(Instant.now().plus(Duration.ofHours(2)).plusSeconds(5)), expires::toString);
  }

  @Test
  void aRefusedCallPrintsItsStatusAndExitsOne() {
    Cli.Result result = ctl("revoke", "no-such-host", "--reason", "test");

    assertEquals(1, result.code(), result::toString);
    assertTrue(result.err().startsWith("error: NOT_FOUND: "), result::toString);
    assertTrue(result.err().contains("no-such-host"), result::toString);
    assertEquals("", result.out());
  }

  /** Replicas listed in the context: the first refuses connections, ctl answers from the next. */
  @Test
  void aContextListWhoseFirstEndpointIsDownStillAnswers() throws Exception {
    int closed;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1,
        java.net.InetAddress.getByName("127.0.0.1"))) {
      closed = socket.getLocalPort();
    }
    Path context = Files.writeString(dir.resolve("replicas.yaml"), """
        endpoints:
          - 127.0.0.1:%d   # replica a, down
          - localhost:%d
        ca: pki/ca.crt
        cert: pki/alice.crt
        key: pki/alice.key
        """.formatted(closed, server.port()));

    Cli.Result result = Cli.run("ctl", "--context", context.toString(), "-o", "json", "hosts");

    assertEquals(0, result.code(), result::toString);
    assertEquals(ctl("-o", "json", "hosts").out(), result.out());
  }

  @Test
  void aCertificateFromAnotherCaIsRefused() throws Exception {
    CertificateAuthority other = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    var pair = KeyPairs.ecP256();
    Pem.writePublic(dir.resolve("mallory.crt"), Pem.encode(other.issue(pair.getPublic(),
        Identity.operator("test.infraveil", "mallory"), Duration.ofHours(1), List.of())));
    Pem.writeSecret(dir.resolve("mallory.key"), Pem.encode(pair.getPrivate()));
    Path context = Files.writeString(dir.resolve("mallory.yaml"), """
        endpoint: localhost:%d
        ca: pki/ca.crt
        cert: mallory.crt
        key: mallory.key
        """.formatted(server.port()));

    Cli.Result result = Cli.run("ctl", "--context", context.toString(), "hosts");

    assertEquals(1, result.code(), result::toString);
    assertTrue(result.err().startsWith("error: UNAVAILABLE: ") || result.err().startsWith("error: UNAUTHENTICATED: "),
        result::toString);
    assertEquals("", result.out());
  }

  @Test
  void missingContextIsAUsageError() {
    Cli.Result result = Cli.run("ctl", "hosts");
    assertEquals(2, result.code(), result::toString);
    assertTrue(result.err().contains("INFRAVEIL_CONTEXT"), result::toString);
  }

  @Test
  void deployWithoutTargetIsAUsageError() throws Exception {
    Path app = Files.createDirectories(dir.resolve("app"));
    Files.writeString(app.resolve("config.yaml"), "services: {}\n");
    Cli.Result result = ctl("deploy", app.toString(), "--name", "hello");
    assertEquals(2, result.code(), result::toString);
    assertTrue(result.err().contains("--hosts"), result::toString);
  }

  @Test
  void deployOfAMissingPathFailsBeforeConnecting() {
    Cli.Result result = ctl("deploy", dir.resolve("nothing").toString(), "--name", "hello", "--hosts", "web-1");
    assertEquals(1, result.code(), result::toString);
    assertTrue(result.err().contains("is neither a directory nor a .tar.gz"), result::toString);
  }
}
