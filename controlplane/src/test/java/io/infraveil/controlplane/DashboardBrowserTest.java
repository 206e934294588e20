package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.infraveil.controlplane.dashboard.DashboardPaths;
import io.infraveil.controlplane.dashboard.DashboardSessions;
import io.infraveil.controlplane.dashboard.DashboardSettings;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.host.time.MutableClock;
import io.infraveil.proto.v1.CreateDashboardSignInLinkRequest;
import io.infraveil.proto.v1.DashboardSignInServiceGrpc;
import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import io.infraveil.proto.v1.VersionStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard as a person opens it: a real headless Chromium (scripts/install-chromium.sh)
 * signs in through the one-time link an operator asked for over gRPC, sees the dashboard and
 * its per-host and per-deployment pages, holds a cookie it cannot read from script; the same
 * link opened again is refused; a session that has expired on the server gets the sign-in
 * page. Screenshots are kept in {@code target/browser-screenshots/}.
 */
@Tag("browser")
class DashboardBrowserTest {

  static final Path SCREENSHOTS = Path.of("target", "browser-screenshots");

  @TempDir Path dir;
  OpsHarness ops;

  @BeforeEach
  void start() throws Exception {
    String missing = "chromium is missing: run scripts/install-chromium.sh";
    if (System.getenv("CI") != null) {
      assertTrue(Files.isExecutable(HeadlessChromium.BINARY), missing); // CI installs it: never skip there
    } else {
      assumeTrue(Files.isExecutable(HeadlessChromium.BINARY), missing);
    }
    ops = new OpsHarness(dir, Map.of());
    var web1 = ops.enroll("web-1");
    String shop = ops.deploy("shop", "v1", "web-1");
    ops.heartbeat(web1, HeartbeatRequest.newBuilder().setHostName("web-1").setDeployment("shop")
        .setPayload(PayloadRef.newBuilder().setSha256(shop)).setVersionStatus(VersionStatus.VERSION_STATUS_KNOWN_GOOD)
        .addServices(ServiceStatus.newBuilder().setName("api").setState(ServiceState.SERVICE_STATE_RUNNING)
            .setHealth(HealthStatus.HEALTH_STATUS_HEALTHY))
        .build());
  }

  @AfterEach
  void stop() throws Exception {
    if (ops != null) {
      ops.close();
    }
  }

  @Test
  void browserSignsInThroughTheOneTimeLinkAndAReusedLinkOrExpiredSessionGetsTheSignInPage() throws Exception {
    String base = "https://127.0.0.1:" + ops.controlPlane.httpPort();
    var signIn = DashboardSignInServiceGrpc.newBlockingStub(ops.channel(ops.pki.operator("alice")))
        .withDeadlineAfter(20, TimeUnit.SECONDS);
    String link = base + signIn.createDashboardSignInLink(CreateDashboardSignInLinkRequest.getDefaultInstance()).getPath();

    try (HeadlessChromium browser = new HeadlessChromium(dir)) {
      browser.open(base + "/dashboard", "/dashboard");
      String before = browser.html();
      assertTrue(before.contains("id=\"sign-in\"") && before.contains("infraveil ctl dashboard"),
          "an unauthenticated browser gets the sign-in page, not JSON: " + before);
      browser.screenshot(SCREENSHOTS.resolve("dashboard-sign-in.png"));

      browser.open(link, "/dashboard");
      String dashboard = browser.html();
      assertTrue(dashboard.contains("spiffe://") && dashboard.contains("/operator/alice"),
          "signed in as alice: " + dashboard);
      assertTrue(dashboard.contains("href=\"/dashboard/hosts/web-1\""), dashboard);
      assertTrue(dashboard.contains("href=\"/dashboard/deployments/shop\""), dashboard);
      assertTrue(dashboard.contains("ago</time>") || dashboard.contains("just now</time>"), "relative times: " + dashboard);
      browser.screenshot(SCREENSHOTS.resolve("dashboard.png"));

      JsonNode cookie = sessionCookie(browser.cookies());
      assertTrue(cookie.path("httpOnly").asBoolean(), cookie.toString());
      assertTrue(cookie.path("secure").asBoolean(), cookie.toString());
      assertEquals("Strict", cookie.path("sameSite").asText(), cookie.toString());
      assertFalse(cookie.path("session").asBoolean(), "the cookie expires with the session: " + cookie);
      assertEquals("", browser.evaluate("document.cookie"), "no script can read the session cookie");

      browser.open(base + "/dashboard/hosts/web-1", "/dashboard/hosts/web-1");
      String host = browser.html();
      assertTrue(host.contains("id=\"host\"") && host.contains("api") && host.contains("RUNNING"), host);
      browser.screenshot(SCREENSHOTS.resolve("dashboard-host.png"));
      browser.open(base + "/dashboard/deployments/shop", "/dashboard/deployments/shop");
      String deployment = browser.html();
      assertTrue(deployment.contains("id=\"deployment\"") && deployment.contains("web-1"), deployment);
      browser.screenshot(SCREENSHOTS.resolve("dashboard-deployment.png"));
    }

    try (HeadlessChromium other = new HeadlessChromium(dir)) {
      other.open(link, DashboardPaths.SIGN_IN);
      String refused = other.html();
      assertTrue(refused.contains("already used") && refused.contains("id=\"sign-in\""), refused);
      assertTrue(sessionCookieAbsent(other.cookies()), "a refused link sets no cookie");
      other.screenshot(SCREENSHOTS.resolve("dashboard-link-reused.png"));
    }

    // A session opened 13 hours ago (the default lifetime is 12 h), in this control plane's store.
    MutableClock past = new MutableClock(Instant.now().minus(Duration.ofHours(13)));
    DashboardSessions earlier = new DashboardSessions(ops.controlPlane.bean(Jdbc.class), past, new SecureRandom(),
        ops.controlPlane.bean(DashboardSettings.class), principal -> true);
    var old = earlier.createLink(new DashboardSessions.Principal("spiffe://x/operator/alice", "spiffe://x/operator/alice",
        DashboardSessions.CredentialKind.OPERATOR_CERTIFICATE, "01"), Duration.ZERO);
    String expiredId = earlier.redeem(old.code()).session().orElseThrow().id();
    try (HeadlessChromium expired = new HeadlessChromium(dir)) {
      expired.call("Network.setCookie", Map.of("name", DashboardPaths.COOKIE, "value", expiredId,
          "url", base + "/", "httpOnly", true, "secure", true, "sameSite", "Strict"));
      expired.open(base + "/dashboard", "/dashboard");
      String page = expired.html();
      assertTrue(page.contains("id=\"sign-in\"") && page.contains("session has ended"), page);
      assertTrue(sessionCookieAbsent(expired.cookies()), "the ended session's cookie is cleared");
      expired.screenshot(SCREENSHOTS.resolve("dashboard-session-expired.png"));
    }
  }

  static JsonNode sessionCookie(JsonNode cookies) {
    for (JsonNode c : cookies) {
      if (c.path("name").asText().equals(DashboardPaths.COOKIE)) {
        return c;
      }
    }
    throw new AssertionError("no " + DashboardPaths.COOKIE + " cookie in " + cookies);
  }

  static boolean sessionCookieAbsent(JsonNode cookies) {
    for (JsonNode c : cookies) {
      if (c.path("name").asText().equals(DashboardPaths.COOKIE)) {
        return false;
      }
    }
    return true;
  }
}
