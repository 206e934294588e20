package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.infraveil.controlplane.dashboard.DashboardPaths;
import io.infraveil.proto.v1.CreateApiTokenRequest;
import io.infraveil.proto.v1.CreateDashboardSignInLinkRequest;
import io.infraveil.proto.v1.DashboardSignInServiceGrpc;
import io.infraveil.proto.v1.RevokeDashboardSessionsRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dashboard sign-in over real HTTPS and mTLS gRPC: the cookie's flags, what scripts and
 * browsers get without credentials, links made with an API token, and the ways a session ends
 * (revoking sessions, revoking the operator's certificate, signing out).
 */
class DashboardSignInTest {

  @TempDir Path dir;
  OpsHarness ops;
  HttpClient http;

  @BeforeEach
  void start() throws Exception {
    ops = new OpsHarness(dir, Map.of());
    http = ops.http(null);
  }

  @AfterEach
  void stop() throws Exception {
    ops.close();
  }

  @Test
  void scriptsGetJson401AndBrowsersTheSignInPage() throws Exception {
    var script = send("GET", "/dashboard", Map.of());
    assertEquals(401, script.statusCode());
    assertTrue(script.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), script.body());
    assertTrue(script.body().contains("\"authenticate\""), script.body());

    var browser = send("GET", "/dashboard", Map.of("Accept", "text/html,application/xhtml+xml"));
    assertEquals(401, browser.statusCode());
    assertTrue(browser.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), browser.body());
    assertTrue(browser.body().contains("infraveil ctl dashboard"), browser.body());
  }

  @Test
  void linkOpensOneSessionWithAStrictHttpOnlySecureCookieAndRevokingSessionsEndsIt() throws Exception {
    var alice = signInService("alice");
    var link = alice.createDashboardSignInLink(CreateDashboardSignInLinkRequest.newBuilder()
        .setSessionTtlSeconds(3600).build());
    assertTrue(link.getUrl().startsWith("https://127.0.0.1:" + ops.controlPlane.httpPort() + DashboardPaths.SIGN_IN),
        link.getUrl());
    assertEquals(300, link.getExpiresAt().getSeconds() - System.currentTimeMillis() / 1000, 5, "links live 5 minutes");

    var opened = send("GET", link.getPath(), Map.of());
    assertEquals(200, opened.statusCode(), opened.body());
    String setCookie = opened.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(setCookie.startsWith(DashboardPaths.COOKIE + "=ivs_"), setCookie);
    for (String flag : new String[] {"HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=3600"}) {
      assertTrue(setCookie.contains(flag), flag + " in " + setCookie);
    }
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));

    var dashboard = send("GET", "/dashboard", Map.of("Cookie", cookie, "Accept", "text/html"));
    assertEquals(200, dashboard.statusCode());
    assertTrue(dashboard.body().contains("/operator/alice") && dashboard.body().contains("Sign out"), dashboard.body());
    assertEquals(200, send("GET", "/client/api/operations", Map.of("Cookie", cookie)).statusCode());

    var again = send("GET", link.getPath(), Map.of());
    assertEquals(403, again.statusCode());
    assertTrue(again.body().contains("already used"), again.body());
    assertTrue(again.headers().firstValue("Set-Cookie").isEmpty(), "a refused link sets no cookie");
    assertTrue(ops.controlPlane.bean(io.infraveil.controlplane.store.SecurityEventStore.class).recent(10).stream()
        .anyMatch(e -> e.kind().equals("DASHBOARD_LINK_REFUSED") && e.message().startsWith("ALREADY_USED")),
        "a refused link is a security event");

    var fresh = alice.createDashboardSignInLink(CreateDashboardSignInLinkRequest.getDefaultInstance());
    assertEquals(200, send("HEAD", fresh.getPath(), Map.of()).statusCode());
    assertEquals(200, send("GET", fresh.getPath(), Map.of()).statusCode(), "a HEAD does not use the link up");

    var unused = alice.createDashboardSignInLink(CreateDashboardSignInLinkRequest.getDefaultInstance());
    var revoked = alice.revokeDashboardSessions(RevokeDashboardSessionsRequest.getDefaultInstance());
    assertEquals(2, revoked.getSessionsRevoked());
    assertEquals(1, revoked.getLinksRevoked());
    var after = send("GET", "/dashboard", Map.of("Cookie", cookie, "Accept", "text/html"));
    assertEquals(401, after.statusCode());
    assertTrue(after.body().contains("session has ended"), after.body());
    assertTrue(after.headers().firstValue("Set-Cookie").orElse("").contains("Max-Age=0"), "the dead cookie is cleared");
    assertEquals(403, send("GET", unused.getPath(), Map.of()).statusCode(), "unused links die with the sessions");
  }

  @Test
  void revokingTheOperatorsCertificateEndsItsSessionAndSignOutEndsOne() throws Exception {
    var bob = ops.pki.operator("bob");
    var link = DashboardSignInServiceGrpc.newBlockingStub(ops.channel(bob)).withDeadlineAfter(20, TimeUnit.SECONDS)
        .createDashboardSignInLink(CreateDashboardSignInLinkRequest.getDefaultInstance());
    String cookie = cookieOf(send("GET", link.getPath(), Map.of()));
    assertEquals(200, send("GET", "/dashboard", Map.of("Cookie", cookie)).statusCode());
    ops.controlPlane.bean(ServerPki.class).revocations().revoke(bob.certificate().getSerialNumber().toString(16));
    assertEquals(401, send("GET", "/dashboard", Map.of("Cookie", cookie)).statusCode());

    var carol = signInService("carol").createDashboardSignInLink(CreateDashboardSignInLinkRequest.getDefaultInstance());
    String carolCookie = cookieOf(send("GET", carol.getPath(), Map.of()));
    assertEquals(200, send("POST", DashboardPaths.SIGN_OUT, Map.of("Cookie", carolCookie)).statusCode());
    assertEquals(401, send("GET", "/dashboard", Map.of("Cookie", carolCookie)).statusCode());
  }

  @Test
  void anApiTokenAsksForALinkBoundToItself() throws Exception {
    var token = ops.operator().createApiToken(CreateApiTokenRequest.newBuilder().setName("grafana").build());
    var made = send("POST", DashboardPaths.SIGN_IN_LINKS, Map.of("Authorization", "Bearer " + token.getToken()));
    assertEquals(200, made.statusCode(), made.body());
    String path = new ObjectMapper().readTree(made.body()).path("path").asText();
    String cookie = cookieOf(send("GET", path, Map.of()));
    var dashboard = send("GET", "/dashboard", Map.of("Cookie", cookie));
    assertEquals(200, dashboard.statusCode());
    assertTrue(dashboard.body().contains("api-token grafana"), dashboard.body());
    // alice made the token: revoking her sessions ends the token's too.
    assertEquals(1, signInService("alice").revokeDashboardSessions(RevokeDashboardSessionsRequest.getDefaultInstance())
        .getSessionsRevoked());
    assertEquals(401, send("GET", "/dashboard", Map.of("Cookie", cookie)).statusCode());

    assertEquals(401, send("POST", DashboardPaths.SIGN_IN_LINKS, Map.of()).statusCode(), "no credential, no link");
    assertEquals(403, send("POST", DashboardPaths.SIGN_IN_LINKS, Map.of("Authorization", "Bearer ivt_nope"))
        .statusCode());
  }

  DashboardSignInServiceGrpc.DashboardSignInServiceBlockingStub signInService(String operator) throws Exception {
    return DashboardSignInServiceGrpc.newBlockingStub(ops.channel(ops.pki.operator(operator)))
        .withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  static String cookieOf(HttpResponse<String> signIn) {
    assertEquals(200, signIn.statusCode(), signIn.body());
    String setCookie = signIn.headers().firstValue("Set-Cookie").orElseThrow();
    return setCookie.substring(0, setCookie.indexOf(';'));
  }

  HttpResponse<String> send(String method, String path, Map<String, String> headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("https://localhost:" + ops.controlPlane.httpPort()
        + path)).timeout(Duration.ofSeconds(20)).method(method, HttpRequest.BodyPublishers.noBody());
    headers.forEach(request::header);
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
