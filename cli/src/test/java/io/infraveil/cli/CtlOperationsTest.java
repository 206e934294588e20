package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import io.infraveil.certs.Identity;
import io.infraveil.controlplane.ingest.ConsoleLogs;
import io.infraveil.controlplane.ops.WatchHub;
import io.infraveil.proto.v1.EvidenceSource;
import io.infraveil.proto.v1.GetStatusResponse;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import io.infraveil.proto.v1.ListIncidentsResponse;
import io.infraveil.proto.v1.LogLine;
import io.infraveil.proto.v1.WatchResponse;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operations commands of `ctl` (incidents, watch, logs, status, API tokens) against a real
 * control plane over mTLS gRPC and HTTPS on loopback.
 */
class CtlOperationsTest {

  @TempDir Path dir;
  TestControlPlane server;
  ExecutorService background = Executors.newCachedThreadPool();

  @BeforeEach
  void start() throws Exception {
    // Two refusals by one caller open an incident, and rules run often.
    server = new TestControlPlane(dir, Map.of(
        "infraveil.incident-check-interval", "100ms",
        "infraveil.auth-failure-threshold", "2"));
    server.enrolled("web-1", Map.of());
  }

  @AfterEach
  void stop() throws Exception {
    background.shutdownNow();
    background.awaitTermination(10, TimeUnit.SECONDS);
    server.close();
  }

  private Cli.Result ctl(String... args) {
    return Cli.run(Map.of("INFRAVEIL_CONTEXT", server.context.toString()), withCtl(args));
  }

  private static String[] withCtl(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "ctl";
    System.arraycopy(args, 0, all, 1, args.length);
    return all;
  }

  private void deploy(String name) throws Exception {
    Path app = Files.createDirectories(dir.resolve("app-" + name));
    Files.writeString(app.resolve("config.yaml"), """
        services:
          api:
            run:
              start: [ "sleep 1000" ]
        """);
    Cli.Result result = ctl("deploy", app.toString(), "--name", name, "--hosts", "web-1");
    assertEquals(0, result.code(), result::toString);
  }

  /** Refused calls by host web-9 (a host may not call the operator service) open an incident. */
  private Incident authorizationIncident() throws Exception {
    server.pki.issue(Identity.Kind.HOST, "web-9", List.of(), Duration.ofHours(1));
    Path hostContext = Files.writeString(dir.resolve("web-9.yaml"), """
        endpoint: localhost:%d
        ca: pki/ca.crt
        cert: pki/web-9.crt
        key: pki/web-9.key
        """.formatted(server.port()));
    for (int i = 0; i < 2; i++) {
      Cli.Result refused = Cli.run("ctl", "--context", hostContext.toString(), "hosts");
      assertEquals(1, refused.code(), refused::toString);
      assertTrue(refused.err().startsWith("error: PERMISSION_DENIED: "), refused::toString);
    }
    waitFor(() -> ctl("incidents", "--open", "-o", "json").out().contains("CERTIFICATE_OR_AUTHORIZATION"));
    ListIncidentsResponse.Builder parsed = ListIncidentsResponse.newBuilder();
    JsonFormat.parser().merge(ctl("incidents", "-o", "json").out(), parsed);
    return parsed.getIncidents(0);
  }

  @Test
  void incidentsTableShowsTheOpenIncident() throws Exception {
    Incident incident = authorizationIncident();

    Cli.Result result = ctl("incidents", "--open");

    assertEquals(0, result.code(), result::toString);
    List<String> lines = result.out().lines().toList();
    assertTrue(lines.get(0).matches("ID +RULE +STATE +HOST +DEPLOYMENT +SERVICE +OPENED +RESOLVED +SUMMARY"),
        result::toString);
    assertTrue(lines.get(1).startsWith(incident.getId() + " "), result::toString);
    assertTrue(lines.get(1).matches(".* CERTIFICATE_OR_AUTHORIZATION +open +web-9 +- +- +\\S+Z +- +2 .*"),
        result::toString);
    assertTrue(lines.get(1).contains("failures by spiffe://test.infraveil/host/web-9"), result::toString);
  }

  @Test
  void incidentsAsJsonParseBackWithTheirTimelines() throws Exception {
    Incident incident = authorizationIncident();

    assertEquals("CERTIFICATE_OR_AUTHORIZATION", incident.getRule());
    assertEquals(IncidentState.INCIDENT_STATE_OPEN, incident.getState());
    assertEquals("web-9", incident.getHostName());
    assertTrue(incident.getTimelineList().stream()
        .anyMatch(entry -> entry.getSource() == EvidenceSource.EVIDENCE_SOURCE_SECURITY
            && entry.getText().contains("PERMISSION_DENIED")), incident::toString);
  }

  @Test
  void incidentsShowPrintsTheTimeline() throws Exception {
    Incident incident = authorizationIncident();

    Cli.Result shown = ctl("incidents", "show", incident.getId());
    Cli.Result listed = ctl("incidents", "--timeline");
    Cli.Result missing = ctl("incidents", "show", "no-such-incident");

    assertEquals(0, shown.code(), shown::toString);
    assertTrue(shown.out().startsWith("incident " + incident.getId() + "  CERTIFICATE_OR_AUTHORIZATION  open\n"),
        shown::toString);
    assertTrue(shown.out().lines().anyMatch(line -> line.matches("TIME +SOURCE +TEXT")), shown::toString);
    assertTrue(shown.out().lines().anyMatch(line -> line.matches("\\S+Z +security +.*PERMISSION_DENIED.*")),
        shown::toString);
    assertEquals(0, listed.code(), listed::toString);
    assertTrue(listed.out().contains(shown.out()), listed::toString);
    assertEquals(1, missing.code(), missing::toString);
    assertTrue(missing.err().contains("no incident no-such-incident"), missing::toString);
  }

  @Test
  void statusCountsOpenIncidentsAndParsesAsJson() throws Exception {
    deploy("hello");
    Incident incident = authorizationIncident();

    Cli.Result table = ctl("status");
    Cli.Result json = ctl("status", "-o", "json");

    assertEquals(0, table.code(), table::toString);
    assertTrue(table.out().contains("\nDEPLOYMENTS\nNAME "), table::toString);
    assertTrue(table.out().lines().anyMatch(line -> line.startsWith("hello ")), table::toString);
    assertTrue(table.out().contains("INCIDENTS: 1 open"), table::toString);
    assertTrue(table.out().contains(incident.getId()), table::toString);
    assertEquals(0, json.code(), json::toString);
    GetStatusResponse.Builder parsed = GetStatusResponse.newBuilder();
    JsonFormat.parser().merge(json.out(), parsed);
    assertEquals("hello", parsed.getDeployments(0).getName());
    assertEquals(List.of("web-1"), parsed.getDeployments(0).getHostsList());
    assertEquals(incident.getId(), parsed.getIncidents(0).getId());
  }

  @Test
  void apiTokenReadsTheOperationsApiOverHttps() throws Exception {
    Cli.Result result = ctl("tokens", "create-api", "grafana", "--ttl", "2h");

    assertEquals(0, result.code(), result::toString);
    String token = result.out().lines().filter(line -> line.startsWith("ivt_")).findFirst().orElseThrow();
    String url = "https://localhost:" + server.controlPlane.httpPort() + "/client/api/operations";
    assertTrue(result.out().contains("curl --cacert " + server.pkiDir.resolve("ca.crt")
        + " -H \"Authorization: Bearer " + token + "\" " + url), result::toString);

    HttpClient https = httpsTrustingTestCa();
    HttpResponse<String> withToken = https.send(HttpRequest.newBuilder(URI.create(url))
        .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> without = https.send(HttpRequest.newBuilder(URI.create(url))
        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());

    assertEquals(200, withToken.statusCode(), withToken::body);
    GetStatusResponse.Builder parsed = GetStatusResponse.newBuilder();
    JsonFormat.parser().ignoringUnknownFields().merge(withToken.body(), parsed);
    assertTrue(parsed.hasGeneratedAt(), withToken::body);
    assertEquals(401, without.statusCode(), without::body);
  }

  @Test
  void apiTokenWithATtlBeyondAYearIsRefused() {
    Cli.Result result = ctl("tokens", "create-api", "grafana", "--ttl", "400d");

    assertEquals(1, result.code(), result::toString);
    assertTrue(result.err().startsWith("error: INVALID_ARGUMENT: ttl_seconds"), result::toString);
    assertEquals("", result.out());
  }

  @Test
  void logsWithoutFollowPrintsTheTailAndReturns() throws Exception {
    deploy("hello");
    server.controlPlane.bean(ConsoleLogs.class).append("web-1", "hello", List.of(
        LogLine.newBuilder().setService("api").setText("starting").build(),
        LogLine.newBuilder().setService("api").setText("listening on 8080").build()), 0);

    Cli.Result all = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> ctl("logs", "hello"));
    Cli.Result last = assertTimeoutPreemptively(Duration.ofSeconds(20),
        () -> ctl("logs", "hello", "--tail", "1"));
    Cli.Result none = assertTimeoutPreemptively(Duration.ofSeconds(20),
        () -> ctl("logs", "hello", "--service", "worker"));

    assertEquals(0, all.code(), all::toString);
    assertEquals(List.of("- web-1 api[0] unspecified: starting", "- web-1 api[0] unspecified: listening on 8080"),
        all.out().lines().toList());
    assertEquals(List.of("- web-1 api[0] unspecified: listening on 8080"), last.out().lines().toList());
    assertEquals(0, none.code(), none::toString);
    assertEquals("", none.out());
    assertEquals("no console lines of hello service worker yet\n", none.err());
  }

  @Test
  void logsOfAnUnknownDeploymentIsNotFound() {
    Cli.Result result = ctl("logs", "nothing");

    assertEquals(1, result.code(), result::toString);
    assertTrue(result.err().startsWith("error: NOT_FOUND: deployment nothing"), result::toString);
  }

  @Test
  void logsFollowPrintsNewLinesAndStopsWhenInterrupted() throws Exception {
    deploy("hello");
    Running follow = startCtl("logs", "hello", "--follow");
    ConsoleLogs logs = server.controlPlane.bean(ConsoleLogs.class);
    waitFor(() -> {
      logs.append("web-1", "hello", List.of(LogLine.newBuilder().setService("api").setText("tick").build()), 0);
      return follow.out().contains("web-1 api[0] unspecified: tick");
    });

    int code = follow.stop();

    assertEquals(0, code, follow::toString);
  }

  @Test
  void watchPrintsADeploymentChangeAndStopsWhenInterrupted() throws Exception {
    Running watch = startCtl("watch");
    WatchHub hub = server.controlPlane.bean(WatchHub.class);
    waitFor(() -> hub.subscribers() > 0);

    deploy("hello");
    waitFor(() -> watch.out().contains("deployment hello now runs"));
    int code = watch.stop();

    assertEquals(0, code, watch::toString);
    String line = watch.out().lines().filter(l -> l.contains("deployment hello now runs")).findFirst().orElseThrow();
    assertTrue(line.matches("\\S+Z  pipeline  -  hello  deployment hello now runs .*"), line);
    assertEquals("", watch.err(), watch::toString);
    waitFor(() -> hub.subscribers() == 0);
  }

  @Test
  void watchAsJsonPrintsOneObjectPerLine() throws Exception {
    Running watch = startCtl("watch", "--deployment", "hello", "-o", "json");
    WatchHub hub = server.controlPlane.bean(WatchHub.class);
    waitFor(() -> hub.subscribers() > 0);

    deploy("other");
    deploy("hello");
    waitFor(() -> watch.out().contains("deployment hello now runs"));
    int code = watch.stop();

    assertEquals(0, code, watch::toString);
    List<String> lines = watch.out().lines().toList();
    assertFalse(lines.isEmpty());
    for (String line : lines) {
      WatchResponse.Builder parsed = WatchResponse.newBuilder();
      JsonFormat.parser().merge(line, parsed);
      assertEquals("hello", parsed.getDeployment(), line);
    }
  }

  /** A ctl command running on its own thread, with output readable while it runs. */
  private final class Running {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final Future<Integer> code;
    volatile Thread thread;

    Running(String... args) {
      code = background.submit(() -> {
        thread = Thread.currentThread();
        return new Main(Map.of("INFRAVEIL_CONTEXT", server.context.toString())).execute(withCtl(args),
            new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
      });
    }

    String out() {
      return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
      return err.toString(StandardCharsets.UTF_8);
    }

    boolean isOpen() {
      return thread != null && !code.isDone();
    }

    /** Interrupts the command, as Ctrl-C would stop it, and returns its exit code. */
    int stop() throws Exception {
      thread.interrupt();
      return code.get(20, TimeUnit.SECONDS);
    }

    @Override
    public String toString() {
      return "--- stdout\n" + out() + "--- stderr\n" + err();
    }
  }

  private Running startCtl(String... args) {
    return new Running(args);
  }

  private static void waitFor(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 20 s");
      }
      Thread.sleep(50);
    }
  }

  private HttpClient httpsTrustingTestCa() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", io.infraveil.certs.Pem.certificate(
        Files.readString(server.pkiDir.resolve("ca.crt"))));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
  }
}
