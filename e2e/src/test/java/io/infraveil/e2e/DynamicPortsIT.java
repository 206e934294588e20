package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.infraveil.certs.Pem;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Two launchers on one machine run one deployment whose service asks for a dynamic port: each
 * host's instance gets a free port of its own, the catalog (ctl status, the operations API)
 * shows host:port per instance, and the host labelled provider=aws runs the config's override.
 * (That a healed instance comes back on its port is SupervisorPortsTest's, with real processes.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 110, unit = TimeUnit.SECONDS)
class DynamicPortsIT {

  private Cluster cluster;

  /** The control plane and two launchers on this machine (as DeployPathIT, outside the test's time). */
  @BeforeAll
  void startCluster() throws Exception {
    cluster = Cluster.start(Cluster.runDir("DynamicPortsIT"));
    cluster.startHost("a", Map.of("provider", "onprem"));
    cluster.startHost("b", Map.of("provider", "aws"));
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static final Duration UP = Duration.ofSeconds(75);

  /** examples/hello with its fixed PORT replaced by a dynamic port named http. */
  private static final String CONFIG = """
      services:
        hello:
          ports: [ http ]
          run:
            start: [ "export PORT=$INFRAVEIL_PORT_HTTP; exec java Hello.java" ]
          healthcheck:
            cmd: bash -c 'exec 3<>/dev/tcp/127.0.0.1/${INFRAVEIL_PORT_HTTP} && printf "GET /health HTTP/1.0\\r\\n\\r\\n" >&3 && cat <&3'
            test: ok
            interval: 2s
            timeout: 3s
            start_period: 60s
      overrides:
        provider=aws:
          services:
            hello:
              run:
                start: [ "echo aws > VERSION; export PORT=$INFRAVEIL_PORT_HTTP; exec java Hello.java" ]
      """;

  @Test
  void twoHostsOnOneMachineServeOneDeploymentOnTheirOwnPorts() throws Exception {
    {
      Path app = cluster.root().resolve("apps").resolve("hello-ports");
      Files.createDirectories(app);
      Files.copy(Cluster.repoRoot().resolve("examples/hello/Hello.java"),
          app.resolve("Hello.java"));
      Files.writeString(app.resolve("VERSION"), "v1\n");
      Files.writeString(app.resolve("config.yaml"), CONFIG);
      long deployed = System.nanoTime();
      cluster.deploy(app, "hello", "a", "b");

      cluster.waitFor("both hosts answer on their reported ports", UP, () ->
          port(cluster, "a").flatMap(p -> Cluster.httpGet(p, "/")).equals(Optional.of("v1"))
              && port(cluster, "b").flatMap(p -> Cluster.httpGet(p, "/"))
                  .equals(Optional.of("aws")));
      Cluster.timing("dynamic ports: deploy to both hosts answering",
          Duration.ofNanos(System.nanoTime() - deployed));
      int portA = port(cluster, "a").orElseThrow();
      int portB = port(cluster, "b").orElseThrow();
      assertNotEquals(portA, portB);

      String table = cluster.ctlOk("status");
      assertTrue(table.contains("http=a:" + portA), table);
      assertTrue(table.contains("http=b:" + portB), table);

      Set<String> addresses = new HashSet<>();
      for (JsonNode service : operations(cluster).path("catalog")) {
        if (service.path("service").asText().equals("hello")) {
          for (JsonNode instance : service.path("instances")) {
            instance.path("endpoints").forEach(e -> addresses.add(
                e.path("name").asText() + " " + e.path("address").asText()));
          }
        }
      }
      assertEquals(Set.of("http a:" + portA, "http b:" + portB), addresses);

    }
  }

  /** The http port host {@code host} reported for hello, from {@code ctl -o json status}. */
  private static Optional<Integer> port(Cluster cluster, String host) {
    for (JsonNode service : cluster.deploymentOnHost("hello", host).path("services")) {
      for (JsonNode port : service.path("ports")) {
        if (port.path("name").asText().equals("http")) {
          return Optional.of(port.path("port").asInt());
        }
      }
    }
    return Optional.empty();
  }

  private static JsonNode operations(Cluster cluster) throws Exception {
    String token = cluster.ctlJson("tokens", "create-api", "ports-it").path("token").asText();
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", Pem.certificate(Files.readString(cluster.caFile())));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(
        TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    HttpClient https = HttpClient.newBuilder().sslContext(ssl)
        .connectTimeout(Duration.ofSeconds(10)).build();
    HttpResponse<String> response = https.send(HttpRequest.newBuilder(
            URI.create("https://localhost:" + cluster.httpPort() + "/client/api/operations"))
        .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    return new ObjectMapper().readTree(response.body());
  }
}
