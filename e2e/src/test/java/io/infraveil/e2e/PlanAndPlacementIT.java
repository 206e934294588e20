package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * With a real control plane, launcher, agent and service: `ctl plan` of a new version says what
 * a deploy would do and changes nothing (same deployment, same desired revision, the same agent
 * process still serving the old version), and refused placements print what exists.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PlanAndPlacementIT {

  private static final Duration UP = Duration.ofSeconds(60);

  @Test
  void planChangesNothingAndRefusedPlacementsPrintWhatExists() throws Exception {
    try (Cluster cluster = Cluster.start(Cluster.runDir("PlanAndPlacementIT"))) {
      Cluster.Host host = cluster.startHost("web-1", cluster.grpcEndpoint(), Battle.fastHost());
      cluster.ctlOk("deploy", cluster.helloApp("v1").toString(), "--name", "hello", "--hosts", "web-1",
          "--payload-version", "v1");
      cluster.waitFor("hello v1 answers", UP, () -> answers(cluster, "v1"));
      long agentPid = Battle.agentPid(host, "hello");
      String deploymentsBefore = intent(cluster);
      long revisionBefore = desiredRevision(cluster);

      Path v2 = cluster.helloApp("v2");
      Cluster.CtlResult plan = cluster.ctl("plan", v2.toString(), "--name", "hello", "--hosts", "web-1",
          "--payload-version", "v2", "--canary", "1");
      assertEquals(0, plan.code(), plan::toString);
      assertTrue(plan.out().lines().anyMatch(l -> l.startsWith("web-1") && l.contains("update")
          && l.contains("v1 (") && l.contains("v2 (")), plan::toString);
      assertTrue(plan.out().contains("  1 (canary): web-1"), plan::toString);
      assertTrue(plan.out().contains("not uploaded yet"), plan::toString);

      Thread.sleep(2000); // a few reconcile passes and heartbeats: had anything been pushed, it shows
      assertEquals(deploymentsBefore, intent(cluster));
      assertEquals(revisionBefore, desiredRevision(cluster));
      assertEquals(agentPid, Battle.agentPid(host, "hello"), "the agent was not restarted");
      assertTrue(answers(cluster, "v1"), "v1 still serves");

      Cluster.CtlResult unknown = cluster.ctl("deploy", v2.toString(), "--name", "hello", "--hosts", "nosuch");
      assertEquals(1, unknown.code(), unknown::toString);
      assertTrue(unknown.err().contains("nosuch is not enrolled; enrolled hosts: web-1"), unknown::toString);
      Cluster.CtlResult twoValues = cluster.ctl("plan", v2.toString(), "--name", "hello",
          "--labels", "zone=a,zone=b");
      assertEquals(2, twoValues.code(), twoValues::toString);
      assertTrue(twoValues.err().contains("Values of zone on hosts: none (no host has the label zone)"),
          twoValues::toString);
      Cluster.CtlResult nothing = cluster.ctl("deploy", v2.toString(), "--name", "hello", "--labels", "zone=a");
      assertEquals(1, nothing.code(), nothing::toString);
      assertTrue(nothing.err().contains("no enrolled host has labels zone=a"), nothing::toString);
      assertEquals(deploymentsBefore, intent(cluster), "refused deploys stored nothing");
      assertTrue(answers(cluster, "v1"));
    }
  }

  /** The deployments as stored (version, generation, targets, time of change), without live reports. */
  private static String intent(Cluster cluster) {
    JsonNode deployments = cluster.ctlJson("deployments").path("deployments");
    for (JsonNode deployment : deployments) {
      ((com.fasterxml.jackson.databind.node.ObjectNode) deployment).remove(java.util.List.of("onHosts", "progress"));
    }
    return deployments.toString();
  }

  private static long desiredRevision(Cluster cluster) {
    for (JsonNode host : cluster.hosts().path("hosts")) {
      if (host.path("name").asText().equals("web-1")) {
        return host.path("desiredRevision").asLong();
      }
    }
    throw new AssertionError("web-1 is not listed");
  }

  private static boolean answers(Cluster cluster, String version) {
    return Cluster.httpGet(cluster.helloPort(), "/").equals(Optional.of(version));
  }
}
