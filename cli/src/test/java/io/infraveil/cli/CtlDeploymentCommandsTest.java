package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.deploy.Deployments;
import io.infraveil.controlplane.store.DeploymentStore.DeploymentRecord;
import io.infraveil.controlplane.store.HostStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deployment commands of `ctl` (deploy's placement answers, plan, pause, resume, restart,
 * delete) against a real control plane over mTLS gRPC: output, exit codes, and what changed.
 */
class CtlDeploymentCommandsTest {

  @TempDir Path dir;
  TestControlPlane server;

  @BeforeEach
  void start() throws Exception {
    server = new TestControlPlane(dir);
    server.enrolled("web-1", Map.of("zone", "a"));
    server.enrolled("web-2", Map.of("zone", "b"));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  Cli.Result ctl(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "ctl";
    System.arraycopy(args, 0, all, 1, args.length);
    return Cli.run(Map.of("INFRAVEIL_CONTEXT", server.context.toString()), all);
  }

  Path app(String version, int instances) throws Exception {
    Path app = Files.createDirectories(dir.resolve("app-" + version));
    Files.writeString(app.resolve("config.yaml"), """
        services:
          api:
            instances: %d
            run:
              start: [ "sleep 1000" ]
        """.formatted(instances));
    Files.writeString(app.resolve("VERSION"), version);
    return app;
  }

  DeploymentRecord stored(String name) {
    return server.controlPlane.bean(Deployments.class).list().stream().filter(d -> d.name().equals(name))
        .findFirst().orElse(null);
  }

  @Test
  void deployExplainsGenerationAndWarnsWhenFewerHostsThanInstances() throws Exception {
    Cli.Result result = ctl("deploy", app("v1", 3).toString(), "--name", "web", "--hosts", "web-1",
        "--payload-version", "v1");
    assertEquals(0, result.code(), result::toString);
    assertTrue(result.out().contains("generation 1 (grows with each new version and restart"), result::toString);
    assertTrue(result.err().contains("warning: deployment web asks for 3 instances (hosts) but is placed on 1: web-1"),
        result::toString);
    Cli.Result status = ctl("status");
    assertTrue(status.out().contains("warning: deployment web asks for 3 instances (hosts) but is placed on 1"),
        status::toString);
  }

  @Test
  void refusedPlacementsPrintWhatExistsAndStoreNothing() throws Exception {
    Path app = app("v1", 1);
    Cli.Result unknown = ctl("deploy", app.toString(), "--name", "web", "--hosts", "nosuch");
    assertEquals(1, unknown.code(), unknown::toString);
    assertTrue(unknown.err().contains("nosuch is not enrolled; enrolled hosts: web-1, web-2"), unknown::toString);

    Cli.Result twoValues = ctl("deploy", app.toString(), "--name", "web", "--labels", "zone=a,zone=b");
    assertEquals(2, twoValues.code(), twoValues::toString);
    assertTrue(twoValues.err().contains("--labels gives zone more than one value (a, b)"), twoValues::toString);
    assertTrue(twoValues.err().contains("Values of zone on hosts: a, b"), twoValues::toString);

    Cli.Result none = ctl("deploy", app.toString(), "--name", "web", "--labels", "zone=c");
    assertEquals(1, none.code(), none::toString);
    assertTrue(none.err().contains("no enrolled host has labels zone=c; values of zone on hosts: a, b"),
        none::toString);
    assertEquals(null, stored("web"));
  }

  @Test
  void pauseResumeRestartAndDeleteDoWhatTheySay() throws Exception {
    assertEquals(0, ctl("deploy", app("v1", 1).toString(), "--name", "web", "--hosts", "web-1").code());

    Cli.Result paused = ctl("pause", "web");
    assertEquals(0, paused.code(), paused::toString);
    assertTrue(paused.out().contains("paused web: hosts keep what they run"), paused::toString);
    assertTrue(stored("web").paused());

    Cli.Result resumed = ctl("resume", "web");
    assertEquals(0, resumed.code(), resumed::toString);
    assertFalse(stored("web").paused());

    Cli.Result restarted = ctl("restart", "web");
    assertEquals(0, restarted.code(), restarted::toString);
    assertTrue(restarted.out().contains("restarting web on web-1: generation 2"), restarted::toString);
    assertEquals(2, stored("web").generation());

    // Not a terminal and no --yes: what it would remove, exit 2, nothing deleted.
    Cli.Result asked = ctl("delete", "web");
    assertEquals(2, asked.code(), asked::toString);
    assertTrue(asked.err().contains("delete would stop web ("), asked::toString);
    assertTrue(asked.err().contains(") on web-1 and forget the deployment"), asked::toString);
    assertTrue(asked.err().contains("nothing was deleted: pass --yes"), asked::toString);
    assertTrue(stored("web") != null);

    Cli.Result deleted = ctl("delete", "web", "--yes");
    assertEquals(0, deleted.code(), deleted::toString);
    assertTrue(deleted.out().contains("deleted web; stopped on web-1"), deleted::toString);
    assertEquals(null, stored("web"));

    Cli.Result missing = ctl("pause", "web");
    assertEquals(1, missing.code(), missing::toString);
    assertTrue(missing.err().contains("deployment web does not exist"), missing::toString);
  }

  @Test
  void planShowsHostsVersionsBatchesAndConfigAndChangesNothing() throws Exception {
    assertEquals(0, ctl("deploy", app("v1", 1).toString(), "--name", "web", "--hosts", "web-1",
        "--payload-version", "v1").code());
    String deploymentsBefore = ctl("-o", "json", "deployments").out();
    var hostsBefore = server.controlPlane.bean(HostStore.class).list().stream()
        .map(h -> h.name() + "@" + h.desiredRevision()).toList();

    Cli.Result plan = ctl("plan", app("v2", 3).toString(), "--name", "web", "--hosts", "web-1,web-2",
        "--payload-version", "v2", "--max-parallel", "1", "--canary", "1");
    assertEquals(0, plan.code(), plan::toString);
    String out = plan.out();
    assertTrue(out.contains("plan for web: v2"), out);
    assertTrue(out.contains("not uploaded yet"), out);
    assertTrue(out.contains("generation: 2 after the deploy"), out);
    assertTrue(out.lines().anyMatch(l -> l.startsWith("web-1") && l.contains("update") && l.contains("v1")
        && l.contains("v2") && l.contains("zone=a")), out);
    assertTrue(out.lines().anyMatch(l -> l.startsWith("web-2") && l.contains("install")), out);
    assertTrue(out.contains("  1 (canary): web-1"), out);
    assertTrue(out.contains("  2: web-2"), out);
    assertTrue(out.contains("  web-1: the base config.yaml"), out);
    assertTrue(out.contains("        instances: 3"), out);
    assertTrue(out.contains("nothing was changed"), out);
    assertTrue(plan.err().contains("warning: deployment web asks for 3 instances (hosts) but is placed on 2"),
        plan::toString);

    assertEquals(deploymentsBefore, ctl("-o", "json", "deployments").out());
    assertEquals(hostsBefore, server.controlPlane.bean(HostStore.class).list().stream()
        .map(h -> h.name() + "@" + h.desiredRevision()).toList());
    assertEquals(1, stored("web").generation());

    Cli.Result refused = ctl("plan", app("v2", 3).toString(), "--name", "web", "--hosts", "nosuch");
    assertEquals(1, refused.code(), refused::toString);
    assertTrue(refused.err().contains("enrolled hosts: web-1, web-2"), refused::toString);
  }
}
