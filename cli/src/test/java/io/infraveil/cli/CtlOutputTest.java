package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/** `ctl -o table|wide|json|yaml` on listing commands, and the documented exit codes. */
class CtlOutputTest {

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
  void yamlIsTheSameDocumentAsJsonAndWideAddsColumns() throws Exception {
    Cli.Result json = ctl("-o", "json", "hosts");
    Cli.Result yaml = ctl("-o", "yaml", "hosts");
    assertEquals(0, yaml.code(), yaml::toString);
    assertEquals(new ObjectMapper().readValue(json.out(), Map.class), new Yaml().load(yaml.out()),
        "yaml carries the same keys and values as json");

    Cli.Result table = ctl("deployments");
    Cli.Result wide = ctl("-o", "wide", "deployments");
    assertEquals(0, wide.code(), wide::toString);
    assertTrue(!table.out().contains("PLACED ON"), table::toString);
    assertTrue(wide.out().contains("no deployments yet"), wide::toString);
    Cli.Result wideHosts = ctl("-o", "wide", "hosts");
    assertEquals(0, wideHosts.code(), wideHosts::toString);
  }

  @Test
  void exitCodesAreZeroOneAndTwo() throws Exception {
    assertEquals(0, ctl("hosts").code());
    Cli.Result refused = ctl("revoke", "no-such-host");
    assertEquals(1, refused.code(), refused::toString);
    assertTrue(refused.err().contains("NOT_FOUND") || refused.err().contains("not"), refused::toString);
    Cli.Result usage = ctl("-o", "xml", "hosts");
    assertEquals(2, usage.code(), usage::toString);
    assertTrue(usage.err().contains("table, wide, json, yaml"), usage::toString);
    Cli.Result noContext = Cli.run(Map.of(), "ctl", "hosts");
    assertEquals(2, noContext.code(), noContext::toString);
  }

  private Cli.Result ctl(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "ctl";
    System.arraycopy(args, 0, all, 1, args.length);
    return Cli.run(Map.of("INFRAVEIL_CONTEXT", server.context.toString()), all);
  }
}
