package io.infraveil.host.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agents' metrics files: written atomically, read by deployment, merged per family. */
class MetricsTextFilesTest {

  @TempDir Path data;

  private static final String WEB = """
      # HELP infraveil_agent_restarts_total Restarts
      # TYPE infraveil_agent_restarts_total counter
      infraveil_agent_restarts_total{deployment="web",service="api"} 2.0
      # HELP infraveil_agent_services_up Services up
      # TYPE infraveil_agent_services_up gauge
      infraveil_agent_services_up{deployment="web"} 1.0
      """;
  private static final String SHOP = """
      # HELP infraveil_agent_restarts_total Restarts
      # TYPE infraveil_agent_restarts_total counter
      infraveil_agent_restarts_total{deployment="shop",service="db"} 0.0
      """;

  @Test
  void mergeKeepsOneHeaderPerFamilyWithEverySample() {
    assertEquals("""
        # HELP infraveil_agent_restarts_total Restarts
        # TYPE infraveil_agent_restarts_total counter
        infraveil_agent_restarts_total{deployment="web",service="api"} 2.0
        infraveil_agent_restarts_total{deployment="shop",service="db"} 0.0
        # HELP infraveil_agent_services_up Services up
        # TYPE infraveil_agent_services_up gauge
        infraveil_agent_services_up{deployment="web"} 1.0
        """, MetricsTextFiles.merge(List.of(WEB, SHOP)));
  }

  @Test
  void readsEveryAgentsFileInDeploymentOrderAndSkipsAgentsWithoutOne() throws Exception {
    MetricsTextFiles.write(MetricsTextFiles.agentFile(data, "web"), WEB);
    MetricsTextFiles.write(MetricsTextFiles.agentFile(data, "shop"), SHOP);
    Files.createDirectories(data.resolve("agents/new"));

    assertEquals(List.of(SHOP, WEB), MetricsTextFiles.readAgents(data));
  }

  @Test
  void noAgentsDirectoryMeansNoFiles() throws Exception {
    assertEquals(List.of(), MetricsTextFiles.readAgents(data.resolve("nothing")));
  }

  @Test
  void writeLeavesNoTemporaryFileBehind() throws Exception {
    Path file = MetricsTextFiles.agentFile(data, "web");
    MetricsTextFiles.write(file, WEB);
    MetricsTextFiles.write(file, SHOP);

    assertEquals(SHOP, Files.readString(file));
    try (var listing = Files.list(file.getParent())) {
      assertEquals(List.of(file), listing.toList());
    }
  }
}
