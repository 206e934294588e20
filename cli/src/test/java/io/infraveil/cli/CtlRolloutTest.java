package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import io.infraveil.proto.v1.ListRolloutsResponse;
import io.infraveil.proto.v1.Rollout;
import io.infraveil.proto.v1.RolloutState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rollout commands against a real control plane over mTLS. The deployment is placed on a host
 * name nobody enrolled, so every rollout has no host to wait for and ends on the next round.
 */
class CtlRolloutTest {

  @TempDir Path dir;
  TestControlPlane server;

  @BeforeEach
  void start() throws Exception {
    server = new TestControlPlane(dir);
    server.enrolled("web-1", java.util.Map.of());
    server.reportsHealthy("web-1", "web");
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Cli.Result ctl(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "ctl";
    System.arraycopy(args, 0, all, 1, args.length);
    return Cli.run(Map.of("INFRAVEIL_CONTEXT", server.context.toString()), all);
  }

  private Path app(String version) throws Exception {
    Path app = Files.createDirectories(dir.resolve("app-" + version));
    Files.writeString(app.resolve("config.yaml"), """
        services:
          api:
            run:
              start: [ "sleep 1000" ]
        rollout:
          max_parallel: 3
          canary: 1
          min_healthy_time: 5s
        """);
    Files.writeString(app.resolve("VERSION"), version);
    return app;
  }

  /** The config.yaml block and the flags make the strategy (flags win); --wait exits 0 on success. */
  @Test
  void deployWaitsWithTheStrategyOfBlockAndFlags() throws Exception {
    Cli.Result first = ctl("-o", "json", "deploy", app("v1").toString(), "--name", "web", "--hosts", "web-1",
        "--payload-version", "v1", "--max-parallel", "2", "--no-auto-revert", "--wait", "--timeout", "30s");
    assertEquals(0, first.code(), first::toString);
    Rollout.Builder rollout = Rollout.newBuilder();
    JsonFormat.parser().merge(first.out(), rollout);
    assertEquals(RolloutState.ROLLOUT_STATE_SUCCEEDED, rollout.getState());
    assertEquals(2, rollout.getStrategy().getMaxParallel(), "the flag wins over the block");
    assertEquals(1, rollout.getStrategy().getCanary(), "from the block");
    assertEquals(5, rollout.getStrategy().getMinHealthyTime().getSeconds(), "from the block");
    assertEquals(300, rollout.getStrategy().getHealthyDeadline().getSeconds(), "the default");
    assertEquals(false, rollout.getStrategy().getAutoRevert(), "--no-auto-revert");
    assertEquals("spiffe://test.infraveil/operator/alice", rollout.getStartedBy());

    Cli.Result second = ctl("deploy", app("v2").toString(), "--name", "web", "--hosts", "web-1",
        "--payload-version", "v2", "--wait", "--timeout", "30s");
    assertEquals(0, second.code(), second::toString);
    assertTrue(second.out().contains("rollout of v2 succeeded on 1 hosts"), second::toString);
  }

  /** History lists every version newest first; rollback goes back, refuses what never ran. */
  @Test
  void historyAndRollback() throws Exception {
    for (String version : new String[] {"v1", "v2"}) {
      Cli.Result deployed = ctl("deploy", app(version).toString(), "--name", "web", "--hosts", "web-1",
          "--payload-version", version, "--wait", "--timeout", "30s");
      assertEquals(0, deployed.code(), deployed::toString);
    }
    Cli.Result unknown = ctl("rollback", "web", "--to", "v9");
    assertEquals(1, unknown.code(), unknown::toString);
    assertTrue(unknown.err().contains("NOT_FOUND") && unknown.err().contains("never ran a version \"v9\""),
        unknown::toString);
    Cli.Result back = ctl("rollback", "web");
    assertEquals(0, back.code(), back::toString);
    assertTrue(back.out().contains("web: v1"), back::toString);

    Cli.Result table = ctl("history", "web");
    assertEquals(0, table.code(), table::toString);
    assertTrue(table.out().startsWith("ID"), table::toString);
    Cli.Result json = ctl("-o", "json", "history", "web");
    ListRolloutsResponse.Builder history = ListRolloutsResponse.newBuilder();
    JsonFormat.parser().merge(json.out(), history);
    assertEquals(3, history.getRolloutsCount(), json::toString);
    assertEquals("rollback", history.getRollouts(0).getOrigin());
    assertEquals("v1", history.getRollouts(0).getPayload().getVersion());
    assertEquals(3, history.getRollouts(0).getPayload().getSequence(), "a rollback is a new sequence");
    assertEquals("v2", history.getRollouts(1).getPayload().getVersion());
    assertEquals(RolloutState.ROLLOUT_STATE_SUCCEEDED, history.getRollouts(1).getState());
    assertEquals("v1", history.getRollouts(2).getPayload().getVersion());

    Cli.Result status = ctl("rollout", "status", "web");
    assertEquals(0, status.code(), status::toString);
    assertTrue(status.out().startsWith("web v1: "), status::toString);
    Cli.Result missing = ctl("promote", "nosuch");
    assertEquals(1, missing.code(), missing::toString);
    assertTrue(missing.err().contains("NOT_FOUND"), missing::toString);
  }
}
