package io.infraveil.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.Pem;
import io.infraveil.certs.TlsContexts;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.WatchRequest;
import io.infraveil.proto.v1.WatchResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets end to end with real processes: a release that names a secret not yet set does not
 * start and says which command to run (on the operator's Watch too); once set, the value
 * reaches the service (as an environment variable and as a file), a new value restarts it, and
 * the values appear in no log file, ctl output, Watch event, operations API response, status
 * page, dashboard, history row or payload.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SecretsIT {

  private static final Duration UP = Duration.ofSeconds(60);

  @TempDir Path outside;
  private Cluster cluster;
  private ManagedChannel watch;
  private final String password = "pw-" + UUID.randomUUID();
  private final String newPassword = "pw2-" + UUID.randomUUID();
  private final String token = "tok-" + UUID.randomUUID();

  @AfterEach
  void stopCluster() throws Exception {
    if (watch != null) {
      watch.shutdownNow();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  /** An app whose service prints the SHA-256 of the secrets it sees, never the secrets. */
  private Path app() throws Exception {
    Path app = cluster.root().resolve("apps/vault");
    Files.createDirectories(app);
    Files.writeString(app.resolve("config.yaml"), """
        services:
          worker:
            run:
              start:
                - >-
                  echo "env-sha=$(printf %s "$DB_PASSWORD" | sha256sum | cut -c1-64)
                  file-sha=$(sha256sum < "$INFRAVEIL_SECRETS_DIR/token" | cut -c1-64)
                  file-mode=$(stat -c %a "$INFRAVEIL_SECRETS_DIR/token")";
                  exec sleep 1000
            secrets:
              - { name: db_password, env: DB_PASSWORD }
              - { name: api_token, file: token }
            stop_timeout: 2s
        """);
    return app;
  }

  private void setSecret(String name, String value) throws Exception {
    // The value file lives outside the cluster's directory and is gone once sent.
    Path file = outside.resolve(name + ".value");
    Files.writeString(file, value);
    Cluster.CtlResult set = cluster.ctl("secrets", "set", "vault", name, "--from-file",
        file.toString());
    Files.delete(file);
    assertEquals(0, set.code(), set::toString);
    assertFalse(set.out().contains(value) || set.err().contains(value), set::toString);
  }

  @Test
  void secretReachesTheServiceAndNowhereElse() throws Exception {
    cluster = Cluster.start(Cluster.runDir("SecretsIT"));
    Cluster.Host host = cluster.startHost("sx", cluster.grpcEndpoint(), Battle.fastHost());
    Path agentDir = host.agentDir("vault");
    Path serviceLog = agentDir.resolve("logs/worker-0.out.log");

    // An operator watching the deployment, as `ctl watch --deployment vault` does.
    List<String> watched = new CopyOnWriteArrayList<>();
    watch = NettyChannelBuilder.forAddress("localhost", cluster.grpcPort())
        .sslContext(TlsContexts.client(cluster.caFile(), cluster.pki().certFile("e2e"),
            cluster.pki().keyFile("e2e")))
        .build();
    OperatorServiceGrpc.newStub(watch).watch(WatchRequest.newBuilder().setDeployment("vault")
        .build(), new StreamObserver<>() {
          @Override
          public void onNext(WatchResponse response) {
            watched.add(response.toString());
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });

    // 1. Deployed before all its secrets are set: nothing starts; the agent says what to run,
    // and the operator sees it.
    setSecret("api_token", token);
    cluster.deploy(app(), "vault", "sx");
    cluster.waitFor("the start is refused for the missing secret", UP, () ->
        Files.readString(agentDir.resolve("agent.log")).contains("SECRET_UNAVAILABLE"));
    cluster.waitFor("the refusal reaches the operator's Watch", UP, () -> watched.stream()
        .anyMatch(w -> w.contains("SECRET_UNAVAILABLE")
            && w.contains("`infraveil ctl secrets set vault db_password --from-file FILE`")));
    String refusal = Files.readString(agentDir.resolve("agent.log"));
    assertTrue(refusal.contains("secret db_password of deployment vault is named in config.yaml"
        + " but not set; set it with `infraveil ctl secrets set vault db_password --from-file"
        + " FILE`"), refusal);
    assertFalse(Files.exists(serviceLog) && Files.readString(serviceLog).contains("env-sha"),
        "the service never started");

    // 2. Set: the deployment restarts and the service sees both values.
    setSecret("db_password", password);
    cluster.waitFor("the service saw both secrets", UP, () -> Files.exists(serviceLog)
        && Files.readString(serviceLog).contains("env-sha=" + sha256(password) + " file-sha="
            + sha256(token) + " file-mode=400"));
    // The agent records a start command as supervised once its start watch (2 s) has passed.
    cluster.waitFor("the agent supervises the service", UP, () ->
        cluster.servicePid("sx", "vault", "worker").isPresent());
    long firstPid = cluster.pidOfService("sx", "vault", "worker");
    Path tokenFile = agentDir.resolve("secrets/worker/token");
    assertEquals("r--------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)));

    // 3. A new value restarts the service, which sees it.
    setSecret("db_password", newPassword);
    cluster.waitFor("the service restarted with the new value", UP, () ->
        Files.readString(serviceLog).contains("env-sha=" + sha256(newPassword)));
    cluster.waitFor("a new service process", UP, () ->
        cluster.servicePid("sx", "vault", "worker").orElse(firstPid) != firstPid);
    assertNotEquals(firstPid, cluster.pidOfService("sx", "vault", "worker"));

    JsonNode listed = cluster.ctlJson("secrets", "list", "vault");
    assertEquals("api_token", listed.path("secrets").get(0).path("name").asText());
    assertEquals(1, listed.path("secrets").get(0).path("version").asLong());
    assertEquals("db_password", listed.path("secrets").get(1).path("name").asText());
    assertEquals(2, listed.path("secrets").get(1).path("version").asLong());

    assertTrue(watched.stream().anyMatch(w -> w.contains("secret db_password of deployment vault"
        + " set to version 2 by spiffe://")), watched.toString());

    // 4. Every operator surface, over the wire, once the console lines were shipped.
    String seen = "env-sha=" + sha256(newPassword);
    cluster.waitFor("the console line with the hash reaches ctl logs", UP, () ->
        cluster.ctl("logs", "vault", "--tail", "1000").out().contains(seen));
    List<String> surfaces = new ArrayList<>(watched);
    surfaces.add(listed.toString());
    for (String[] args : new String[][] {{"status"}, {"hosts"}, {"incidents"},
        {"logs", "vault", "--tail", "1000"}, {"security-events"}}) {
      Cluster.CtlResult result = cluster.ctl(concat(new String[] {"-o", "json"}, args));
      surfaces.add(String.join(" ", args) + ": " + result.out() + result.err());
    }
    String apiToken = cluster.ctlJson("tokens", "create-api", "secrets-it").path("token").asText();
    HttpClient https = httpsTrustingClusterCa();
    for (String path : List.of("/client/api/operations", "/dashboard", "/status",
        "/status.json")) {
      HttpResponse<String> response = https.send(HttpRequest.newBuilder(
              URI.create("https://localhost:" + cluster.httpPort() + path))
          .header("Authorization", "Bearer " + apiToken).timeout(Duration.ofSeconds(20)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, response.statusCode(), path + ": " + response.body());
      surfaces.add(path + ": " + response.body());
    }
    // (protobuf JSON writes '=' as \u003d: look for the hash itself)
    assertTrue(surfaces.stream().anyMatch(s -> s.contains(seen.substring("env-sha=".length()))),
        "the console lines (with the hash) were shipped: the search below looked at real data");
    for (String surface : surfaces) {
      assertNoSecretIn(surface, surface.substring(0, Math.min(60, surface.length())));
    }

    // 5. History and every other table, read after the control plane is stopped.
    cluster.kill9ControlPlane();
    String database = dumpDatabase(cluster.root().resolve("controlplane"));
    assertTrue(database.contains("ctl secrets set vault"),
        "history holds the refusal naming the command to run");
    assertTrue(database.contains("env-sha="), "history holds the service's console lines");
    assertNoSecretIn(database, "the control plane's database");

    // 6. Every file of the installation: logs, state, payloads, caches, releases, H2 files.
    try (Stream<Path> files = Files.walk(cluster.root())) {
      for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        String text = new String(Files.readAllBytes(file), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertFalse(text.contains(password) || text.contains(newPassword),
            "the environment secret is in " + file);
        if (!file.equals(tokenFile)) {
          assertFalse(text.contains(token), "the file secret is in " + file);
        }
      }
    }
  }

  private void assertNoSecretIn(String text, String where) {
    assertFalse(text.contains(password), "first password in " + where);
    assertFalse(text.contains(newPassword), "second password in " + where);
    assertFalse(text.contains(token), "token in " + where);
  }

  /** Every row of every table of the control plane's H2 database, as text. */
  private static String dumpDatabase(Path dataDir) throws Exception {
    StringBuilder out = new StringBuilder();
    String url = "jdbc:h2:file:" + dataDir.resolve("controlplane").toAbsolutePath();
    try (Connection c = DriverManager.getConnection(url, "sa", "");
        Statement s = c.createStatement()) {
      List<String> tables = new ArrayList<>();
      try (ResultSet r = s.executeQuery("SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES"
          + " WHERE TABLE_SCHEMA = 'PUBLIC'")) {
        while (r.next()) {
          tables.add(r.getString(1));
        }
      }
      assertTrue(tables.contains("HISTORY") && tables.contains("SECRETS"), tables.toString());
      for (String table : tables) {
        try (ResultSet r = s.executeQuery("SELECT * FROM \"" + table + "\"")) {
          int columns = r.getMetaData().getColumnCount();
          while (r.next()) {
            out.append(table).append(':');
            for (int i = 1; i <= columns; i++) {
              Object value = r.getObject(i);
              out.append(' ').append(value instanceof byte[] bytes
                  ? new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1) : value);
            }
            out.append('\n');
          }
        }
      }
    }
    return out.toString();
  }

  private HttpClient httpsTrustingClusterCa() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", Pem.certificate(Files.readString(cluster.caFile())));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(
        TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
  }

  private static String sha256(String value) throws java.security.NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(value.getBytes(UTF_8)));
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = new String[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
