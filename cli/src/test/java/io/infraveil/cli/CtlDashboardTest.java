package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `ctl dashboard`: the printed link signs a browser in once; --revoke-sessions ends the session. */
class CtlDashboardTest {

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

  @Test
  void printedLinkSignsInOnceAndRevokeSessionsEndsTheSession() throws Exception {
    Cli.Result made = ctl("dashboard");
    assertEquals(0, made.code(), made::toString);
    String url = made.out().lines().findFirst().orElseThrow();
    assertTrue(url.startsWith("https://127.0.0.1:" + server.controlPlane.httpPort() + "/dashboard/sign-in?code=ivl_"), url);
    assertTrue(made.out().contains("it works once"), made::toString);

    HttpClient https = httpsTrustingTestCa();
    HttpResponse<String> opened = get(https, url, null);
    assertEquals(200, opened.statusCode(), opened.body());
    String cookie = opened.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
    String dashboard = "https://127.0.0.1:" + server.controlPlane.httpPort() + "/dashboard";
    assertEquals(200, get(https, dashboard, cookie).statusCode());
    assertEquals(403, get(https, url, null).statusCode(), "the link works once");

    Cli.Result revoked = ctl("-o", "json", "dashboard", "--revoke-sessions");
    assertEquals(0, revoked.code(), revoked::toString);
    assertEquals(1, new ObjectMapper().readTree(revoked.out()).path("sessionsRevoked").asInt(), revoked::toString);
    assertEquals(401, get(https, dashboard, cookie).statusCode());

    Cli.Result proxied = ctl("-o", "json", "dashboard", "--base-url", "https://ops.example.org/", "--session-ttl", "1h");
    assertEquals(0, proxied.code(), proxied::toString);
    assertTrue(new ObjectMapper().readTree(proxied.out()).path("url").asText()
        .startsWith("https://ops.example.org/dashboard/sign-in?code=ivl_"), proxied::toString);
  }

  private Cli.Result ctl(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "ctl";
    System.arraycopy(args, 0, all, 1, args.length);
    return Cli.run(Map.of("INFRAVEIL_CONTEXT", server.context.toString()), all);
  }

  private static HttpResponse<String> get(HttpClient client, String url, String cookie) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20));
    if (cookie != null) {
      request.header("Cookie", cookie);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpClient httpsTrustingTestCa() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", Pem.certificate(Files.readString(server.pkiDir.resolve("ca.crt"))));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
  }
}
