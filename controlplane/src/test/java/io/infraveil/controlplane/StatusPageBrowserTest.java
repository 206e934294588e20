package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.infraveil.proto.v1.HealthStatus;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import io.infraveil.proto.v1.VersionStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The public status page of a running control plane, rendered by a real headless browser
 * (Debian's chromium, installed by scripts/install-chromium.sh): the deployments appear in the
 * rendered DOM after the page's own script has run, and a screenshot is taken.
 */
@Tag("browser")
class StatusPageBrowserTest {

  static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  @TempDir Path dir;
  OpsHarness ops;

  @BeforeEach
  void start() throws Exception {
    String missing = "chromium is missing: run scripts/install-chromium.sh";
    if (System.getenv("CI") != null) {
      assertTrue(Files.isExecutable(CHROMIUM), missing); // CI installs it: never skip there
    } else {
      assumeTrue(Files.isExecutable(CHROMIUM), missing);
    }
    ops = new OpsHarness(dir, Map.of());
    var web1 = ops.enroll("web-1");
    String shop = ops.deploy("shop", "v1", "web-1");
    ops.deploy("billing", "v3", "web-1");
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
  void statusPageRendersTheDeploymentsInAHeadlessBrowser() throws Exception {
    String url = "https://127.0.0.1:" + ops.controlPlane.httpPort() + "/status";
    // Virtual time lets the page's refresh (every 5 s) run once, so the DOM is the script's render.
    String dom = chromium(List.of("--dump-dom", "--virtual-time-budget=7000", url));
    assertTrue(dom.contains("<b>shop</b>"), dom);
    assertTrue(dom.contains("<b>billing</b>"), dom);
    assertTrue(dom.contains("class=\"badge healthy\""), "shop runs healthy on its one host: " + dom);
    assertTrue(dom.contains("id=\"overall\""), dom);

    Path screenshot = dir.resolve("status.png");
    chromium(List.of("--screenshot=" + screenshot, "--window-size=1200,900", url));
    assertTrue(Files.size(screenshot) > 10_000, "a real screenshot, " + Files.size(screenshot) + " bytes");
    String keep = System.getProperty("infraveil.screenshot"); // to look at it: -Dinfraveil.screenshot=/tmp/x.png
    if (keep != null) {
      Files.copy(screenshot, Path.of(keep), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  // After the page's own script re-rendered from /status.json, a failed update every host
  // survived still reads "serving previous version", with no host or version name in the DOM.
  @Test
  void aFailedUpdateEveryHostSurvivedRendersAsServingPreviousVersion() throws Exception {
    PublicStatusTest.newVersionRolledBackOnTwoHosts(ops, "cart", "web-7", "web-8");
    String url = "https://127.0.0.1:" + ops.controlPlane.httpPort() + "/status";
    String dom = chromium(List.of("--dump-dom", "--virtual-time-budget=7000", url));
    assertTrue(dom.contains("<b>cart</b></td><td><span class=\"badge serving-previous-version\">serving previous version"
        + "</span></td><td>2 / 2</td>"), dom);
    assertTrue(dom.contains("A new version was rolled back</td><td>cart</td><td>2</td>"), "grouped per deployment: " + dom);
    for (String secret : List.of("web-1", "web-7", "web-8", PublicStatusTest.OLD, PublicStatusTest.NEW, "v1", "v3")) {
      assertTrue(!dom.contains(secret), secret + " must not appear on the public page: " + dom);
    }
  }

  String chromium(List<String> extra) throws Exception {
    List<String> command = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + Files.createTempDirectory(dir, "chromium"),
        "--ignore-certificate-errors"));
    command.addAll(extra);
    Process process = new ProcessBuilder(command).directory(dir.toFile())
        .redirectError(dir.resolve("chromium-" + System.nanoTime() + ".log").toFile()).start();
    byte[] out = process.getInputStream().readAllBytes();
    assertTrue(process.waitFor(90, TimeUnit.SECONDS), "chromium did not finish in 90 s");
    assertEquals(0, process.exitValue(), "chromium failed: " + new String(out, StandardCharsets.UTF_8));
    return new String(out, StandardCharsets.UTF_8);
  }
}
