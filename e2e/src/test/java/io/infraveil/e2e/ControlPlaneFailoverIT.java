package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A launcher process given two control-plane endpoints. Two control planes cannot share one
 * installation's state yet, so the two endpoints are two mutual-TLS front ends of the one real
 * control plane ({@link ControlPlaneProxy}, each with its own port and server certificate);
 * what is under test is the host side: the launcher (and its agent) reach the control plane
 * through one endpoint, that endpoint dies, and they carry on through the other: the host is
 * online again, the service was not restarted, a new version arrives through the survivor, and
 * the launcher logged the switch once.
 */
class ControlPlaneFailoverIT {

  private static final String HOST = "replicas-1";
  private static final String DEPLOYMENT = "hello";
  private static final Duration UP = Duration.ofSeconds(60);
  private static final Pattern CONNECTED =
      Pattern.compile("action=control_plane_connected endpoint=(\\S+)");

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void theLauncherCarriesOnThroughTheOtherEndpointWhenItsEndpointDies() throws Exception {
    Cluster cluster = Cluster.start(Cluster.runDir("ControlPlaneFailoverIT"));
    ControlPlaneProxy a = ControlPlaneProxy.start(cluster.pki(), cluster.grpcEndpoint(),
        cluster.hostDataDir(HOST));
    ControlPlaneProxy b = ControlPlaneProxy.start(cluster.pki(), cluster.grpcEndpoint(),
        cluster.hostDataDir(HOST));
    try {
      Cluster.Host host = cluster.startHost(HOST, a.endpoint() + "," + b.endpoint(), List.of());
      cluster.deploy(cluster.helloApp("v1"), DEPLOYMENT, HOST);
      cluster.waitFor("hello v1 answers", UP,
          () -> Cluster.httpGet(cluster.helloPort(), "/").equals(Optional.of("v1")));
      cluster.waitFor("the agent saved the service's pid", UP,
          () -> cluster.servicePid(HOST, DEPLOYMENT, "hello").isPresent());
      long pid = cluster.pidOfService(HOST, DEPLOYMENT, "hello");

      String usedEndpoint = lastConnected(host.launcher().output());
      ControlPlaneProxy used = usedEndpoint.equals(a.endpoint()) ? a : b;
      ControlPlaneProxy other = used == a ? b : a;
      String otherEndpoint = other.endpoint();
      assertEquals(used.endpoint(), usedEndpoint, host.launcher().output());

      long killedAt = System.nanoTime();
      used.close();
      cluster.waitForLine(host.launcher(), "connected to control plane " + otherEndpoint
          + " (was " + usedEndpoint + ")", Duration.ofSeconds(30));
      Duration switched = Duration.ofNanos(System.nanoTime() - killedAt);
      cluster.waitFor("sync accepted through " + otherEndpoint, Duration.ofSeconds(30),
          () -> host.launcher().output().contains("control_plane=" + otherEndpoint));
      cluster.waitForHostOnline(HOST);
      Cluster.timing("launcher on the other endpoint after its endpoint died", switched);

      assertEquals(pid, cluster.pidOfService(HOST, DEPLOYMENT, "hello"),
          "the service keeps running while the launcher changes endpoint");
      int desiredBefore = other.desiredStates().size();
      cluster.deploy(cluster.helloApp("v2"), DEPLOYMENT, HOST);
      cluster.waitFor("hello v2 answers", UP,
          () -> Cluster.httpGet(cluster.helloPort(), "/").equals(Optional.of("v2")));
      assertTrue(other.desiredStates().size() > desiredBefore,
          "the new version came through the surviving endpoint");
      assertEquals(1, count(host.launcher().output(), "(was " + usedEndpoint + ")"),
          "one log line for the switch");
    } finally {
      try {
        cluster.close();
      } finally {
        a.close();
        b.close();
      }
    }
  }

  private static String lastConnected(String output) {
    Matcher matcher = CONNECTED.matcher(output);
    String last = null;
    while (matcher.find()) {
      last = matcher.group(1);
    }
    if (last == null) {
      throw new AssertionError("the launcher logged no control_plane_connected line:\n" + output);
    }
    return last;
  }

  private static int count(String text, String part) {
    int count = 0;
    for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
      count++;
    }
    return count;
  }
}
