package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.infraveil.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * docs/install.md followed from the release tarball: three hosts as three scratch roots on
 * loopback (one control plane, two workers), each installed with the tarball's own
 * {@code install.sh --root}, every program started from the installed tree; then an upgrade in
 * place of a worker and of the control plane. Also the install script's promises and the
 * systemd units ({@code systemd-analyze verify}, where installed).
 */
class ReleaseInstallIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration STARTUP = Duration.ofSeconds(60);
  private static final Pattern LOCK_PID = Pattern.compile("pid=(\\d+)");

  private final List<Node> nodes = new ArrayList<>();
  /** This test's run directory, for the logs printed on a failure. */
  private Path run;

  @Test
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void threeHostsRunFromTheTarballAndAnUpgradeRestartsNoAgentAndNoService() throws Exception {
    Path run = Cluster.runDir("ReleaseInstallIT");
    this.run = run;
    try {
      Path release = Release.extract(run.resolve("download"));
      Path cp = run.resolve("controlplane-host");
      Path w1 = run.resolve("worker-1");
      Path w2 = run.resolve("worker-2");
      for (Path root : List.of(cp, w1, w2)) {
        Release.install(release, root);
      }

      String version = Files.readString(release.resolve("VERSION")).strip();
      Release.Result printed = ok(cp, "--version");
      assertTrue(printed.output().contains("infraveil " + version), printed.toString());

      // --- control plane host: PKI with the name the workers dial, then the unit's command.
      Path pki = cp.resolve("etc/infraveil/pki");
      ok(cp, "certs", "init", "--dir", pki.toString());
      ok(cp, "certs", "issue", "--dir", pki.toString(), "--server", "controlplane",
          "--san", "localhost", "--san", "127.0.0.1");
      ok(cp, "certs", "issue", "--dir", pki.toString(), "--operator", "admin");
      int grpcPort = Cluster.freePort();
      int httpPort = Cluster.freePort();
      List<String> controlPlaneCommand = unitCommand(cp, "infraveil-controlplane.service",
          "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort));
      Node controlPlane = start(run, "controlplane", cp, controlPlaneCommand);
      waitForLine(controlPlane, "controlplane ready");

      Path context = run.resolve("operator/ctl.yaml");
      Files.createDirectories(context.getParent());
      Files.writeString(context, """
          endpoint: localhost:%d
          ca: %s
          cert: %s
          key: %s
          """.formatted(grpcPort, pki.resolve("ca.crt"), pki.resolve("admin.crt"),
          pki.resolve("admin.key")));

      // --- workers, as docs/install.md says: the CA copied over, launcher.yaml edited, a join
      // token each, `launcher enroll` with the doc's own command line, then the unit's command.
      Map<String, Path> workers = Map.of("worker-1", w1, "worker-2", w2);
      Map<String, Node> launchers = new java.util.HashMap<>();
      Map<String, Integer> metricsPorts = new java.util.HashMap<>();
      List<String> enrollWords = docEnrollCommand(release);
      for (String name : List.of("worker-1", "worker-2")) {
        Path root = workers.get(name);
        Files.copy(pki.resolve("ca.crt"), root.resolve("etc/infraveil/ca.crt"));
        metricsPorts.put(name, Cluster.freePort());
        editLauncherConfig(root, grpcPort, metricsPorts.get(name));
        String token = JSON.readTree(ok(cp, "ctl", "--context", context.toString(), "-o", "json",
            "tokens", "create", name).output()).path("joinToken").asText();
        assertFalse(token.isBlank(), "a join token for " + name);
        String[] enroll = enrollArgs(enrollWords, root, token, name);
        Release.Result enrolled = ok(root, enroll);
        Path identity = root.resolve("var/lib/infraveil/launcher/identity");
        assertTrue(enrolled.output().contains("enrolled as " + name + " (identity in " + identity
            + ", control plane localhost:" + grpcPort + ")"), enrolled.toString());
        assertFalse(enrolled.output().contains(token), "the join token is never printed");
        Map<String, String> identityFiles = fileStamps(identity);
        // Run again (the token is spent by now): nothing changes, exit 0.
        Release.Result again = ok(root, enroll);
        assertTrue(again.output().contains("this host is already enrolled as " + name)
            && again.output().contains("nothing changed"), again.toString());
        assertEquals(identityFiles, fileStamps(identity), "identity untouched");
        launchers.put(name, start(run, "launcher-" + name, root,
            unitCommand(root, "infraveil-launcher.service")));
      }
      for (String name : workers.keySet()) {
        waitForLine(launchers.get(name), "action=sync_connected");
        waitForHostOnline(context, name, launchers.values());
        // The unit's ExecStart read launcher.yaml: its metrics port, not the default 7081.
        waitForLine(launchers.get(name), "metrics=http://127.0.0.1:" + metricsPorts.get(name));
        assertTrue(Cluster.httpGet(metricsPorts.get(name), "/metrics").isPresent(),
            "launcher of " + name + " serves /metrics on the port its launcher.yaml names");
      }

      // --- the example, from the release, on both workers (two ports: one machine here).
      int port1 = Cluster.freePort();
      int port2 = Cluster.freePort();
      Path app1 = helloCopy(release, run.resolve("apps/hello"), port1);
      Path app2 = helloCopy(release, run.resolve("apps/hello-2"), port2);
      ok(cp, "ctl", "--context", context.toString(), "deploy", app1.toString(), "--name", "hello",
          "--hosts", "worker-1");
      ok(cp, "ctl", "--context", context.toString(), "deploy", app2.toString(), "--name",
          "hello-2", "--hosts", "worker-2");
      Instant deployed = Instant.now();
      await("hello answers on both workers", Duration.ofSeconds(120),
          () -> Cluster.httpGet(port1, "/").equals(Optional.of("v1"))
              && Cluster.httpGet(port2, "/").equals(Optional.of("v1")));
      Cluster.timing("release install: deploy to both answering",
          Duration.between(deployed, Instant.now()));

      // The host programs run on lib/host alone, from the installed release.
      Path agentDir = w1.resolve("var/lib/infraveil/launcher/agents/hello");
      long agentPid = agentPid(agentDir);
      // The agent's state file is written off the start path, so it may trail the first answer.
      await("the agent's state file names hello's pid", Duration.ofSeconds(10),
          () -> Cluster.savedServicePid(agentDir, "hello").isPresent());
      long servicePid = Cluster.savedServicePid(agentDir, "hello").orElseThrow();
      Path oldRelease = w1.resolve("opt/infraveil/current").toRealPath();
      for (long pid : List.of(launchers.get("worker-1").pid(), agentPid)) {
        String cmdline = Release.cmdline(pid);
        assertTrue(cmdline.contains(oldRelease + "/lib/host/"), cmdline);
        assertFalse(cmdline.contains("/lib/controlplane/"), "no control-plane jar: " + cmdline);
        assertFalse(cmdline.contains("micronaut"), "no Micronaut: " + cmdline);
      }

      // --- upgrade worker-1 in place: a newer release beside the running one, then the
      // restart systemd does (KillMode=process: SIGTERM to the launcher only).
      Path next = Release.newerRelease(release, run.resolve("download-next/infraveil-next"),
          "0.1.0-upgrade-test");
      Release.install(next, w1);
      Path newRelease = w1.resolve("opt/infraveil/current").toRealPath();
      assertNotEquals(oldRelease, newRelease);
      assertEquals(oldRelease, w1.resolve("opt/infraveil/previous").toRealPath());
      Node oldLauncher = launchers.get("worker-1");
      assertTrue(oldLauncher.terminate(Duration.ofSeconds(20)), "the launcher stops on SIGTERM");
      assertTrue(ProcessScan.isAlive(agentPid), "the agent outlives its launcher");
      Node newLauncher = start(run, "launcher-worker-1", w1,
          unitCommand(w1, "infraveil-launcher.service"));
      waitForLine(newLauncher, "action=adopt deployment=hello pid=" + agentPid);
      waitForLine(newLauncher, "action=sync_connected");
      waitForHostOnline(context, "worker-1", List.of(newLauncher));

      assertEquals(agentPid, agentPid(agentDir), "same agent");
      assertEquals(OptionalLong.of(servicePid), Cluster.savedServicePid(agentDir, "hello"),
          "same service");
      assertEquals(Optional.of("v1"), Cluster.httpGet(port1, "/"));
      assertFalse(newLauncher.output().contains("action=spawn"), newLauncher.output());
      // The new launcher loaded the new jar; the adopted agent still runs on the old files.
      Path newJar = Release.launcherJar(newRelease);
      assertTrue(Release.openFiles(newLauncher.pid()).contains(newJar),
          "the restarted launcher has " + newJar + " open: " + Release.openFiles(newLauncher.pid()));
      assertTrue(Release.cmdline(agentPid).contains(oldRelease + "/lib/host/"));
      assertTrue(Files.isDirectory(oldRelease), "the release an agent runs from is kept");

      // --- upgrade the control plane the same way: schema migrates forward (none here), hosts
      // reconnect, services untouched.
      Release.install(next, cp);
      Instant stopping = Instant.now();
      assertTrue(controlPlane.terminate(Duration.ofSeconds(25)),
          "the control plane stops on SIGTERM within the unit's TimeoutStopSec, hosts connected");
      Cluster.timing("release install: control plane stop with hosts connected",
          Duration.between(stopping, Instant.now()));
      Node upgraded = start(run, "controlplane", cp, controlPlaneCommand);
      waitForLine(upgraded, "controlplane ready");
      assertTrue(Release.cmdline(upgraded.pid()).contains(
          cp.resolve("opt/infraveil/current").toRealPath() + "/lib/"));
      for (String name : workers.keySet()) {
        waitForHostOnline(context, name, List.of(upgraded));
      }
      assertEquals(agentPid, agentPid(agentDir), "same agent after the control plane upgrade");
      assertEquals(Optional.of("v1"), Cluster.httpGet(port1, "/"));
      assertEquals(Optional.of("v1"), Cluster.httpGet(port2, "/"));
    } finally {
      stopAll(run);
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void installIsIdempotentKeepsConfigurationAndPrunesUnusedReleases() throws Exception {
    Path run = Cluster.runDir("ReleaseInstallIT-script");
    Path release = Release.extract(run.resolve("download"));
    Path root = run.resolve("root");
    Path opt = root.resolve("opt/infraveil");

    Release.install(release, root);
    Path first = opt.resolve("current").toRealPath();
    Path config = root.resolve("etc/infraveil/launcher.yaml");
    assertEquals(Files.readString(release.resolve("config/launcher.yaml")), Files.readString(config));
    Files.writeString(config, "control-plane: cp.internal:7443\n");

    Release.Result again = Release.install(release, root);
    assertTrue(again.output().contains("already in"), again.toString());
    assertTrue(again.output().contains("kept " + config), again.toString());
    assertEquals("control-plane: cp.internal:7443\n", Files.readString(config));
    assertEquals(first, opt.resolve("current").toRealPath());
    assertEquals(List.of(first.getFileName().toString()), releases(opt));
    assertTrue(Files.isSymbolicLink(root.resolve("usr/local/bin/infraveil")));
    assertTrue(Files.isExecutable(root.resolve("usr/local/bin/infraveil")));

    Path second = Release.newerRelease(release, run.resolve("next/a"), "0.2.0");
    Release.install(second, root);
    assertEquals(first, opt.resolve("previous").toRealPath());
    Path third = Release.newerRelease(release, run.resolve("next/b"), "0.3.0");
    Release.install(third, root);
    // The first release is neither current nor previous, and nothing runs from it: removed.
    assertFalse(Files.exists(first));
    assertEquals(2, releases(opt).size(), releases(opt).toString());
    assertTrue(opt.resolve("current").toRealPath().getFileName().toString().startsWith("0.3.0-"));
    assertTrue(opt.resolve("previous").toRealPath().getFileName().toString().startsWith("0.2.0-"));
    assertEquals("control-plane: cp.internal:7443\n", Files.readString(config));

    // The host classpath holds no control-plane framework.
    try (Stream<Path> jars = Files.list(release.resolve("lib/host"))) {
      List<String> names = jars.map(p -> p.getFileName().toString()).sorted().toList();
      assertTrue(names.stream().anyMatch(n -> n.startsWith("infraveil-launcher-")), names.toString());
      assertTrue(names.stream().anyMatch(n -> n.startsWith("infraveil-agent-")), names.toString());
      for (String forbidden : List.of("micronaut-", "h2-", "flyway-", "HikariCP-",
          "infraveil-controlplane-", "infraveil-cli-")) {
        assertTrue(names.stream().noneMatch(n -> n.startsWith(forbidden)),
            forbidden + " in lib/host: " + names);
      }
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void systemdUnitsVerifyAndKeepTheirPromises() throws Exception {
    Path run = Cluster.runDir("ReleaseInstallIT-units");
    Path release = Release.extract(run.resolve("download"));
    Path root = run.resolve("root");
    Release.install(release, root);
    Path units = root.resolve("etc/systemd/system");
    String controlPlane = Files.readString(units.resolve("infraveil-controlplane.service"));
    String launcher = Files.readString(units.resolve("infraveil-launcher.service"));
    for (String unit : List.of(controlPlane, launcher)) {
      for (String line : List.of("Restart=always", "RestartPreventExitStatus=2",
          "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "LimitNOFILE=65536")) {
        assertTrue(unit.lines().anyMatch(line::equals), line + " in\n" + unit);
      }
    }
    assertTrue(controlPlane.lines().anyMatch("User=infraveil"::equals));
    assertTrue(controlPlane.lines().anyMatch("StateDirectory=infraveil/controlplane"::equals));
    assertTrue(launcher.lines().anyMatch("KillMode=process"::equals));
    assertTrue(launcher.lines().anyMatch("Delegate=yes"::equals));
    assertTrue(launcher.lines().anyMatch("StateDirectory=infraveil/launcher"::equals));

    Optional<Path> analyze = Stream.of("/usr/bin/systemd-analyze", "/bin/systemd-analyze")
        .map(Path::of).filter(Files::isExecutable).findFirst();
    Assumptions.assumeTrue(analyze.isPresent(),
        "systemd-analyze is not installed here: `systemd-analyze verify` of the units skipped");
    for (String name : List.of("infraveil-controlplane.service", "infraveil-launcher.service")) {
      // The unit as installed, its absolute paths moved into the scratch root so that the
      // programs it names exist.
      String text = Files.readString(units.resolve(name))
          .replace("/opt/infraveil", root.resolve("opt/infraveil").toString())
          .replace("/etc/infraveil", root.resolve("etc/infraveil").toString());
      Path copy = run.resolve("verify").resolve(name);
      Files.createDirectories(copy.getParent());
      Files.writeString(copy, text);
      Release.Result verified = Release.run(List.of(analyze.get().toString(), "verify",
          copy.toString()), run, Duration.ofSeconds(60));
      assertEquals(0, verified.code(), verified.toString());
      assertFalse(verified.output().contains(name + ":"), "no complaint: " + verified);
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void debianPackageHoldsTheSameReleaseAndInstallsItTheSameWay() throws Exception {
    Optional<Path> dpkgDeb = Stream.of("/usr/bin/dpkg-deb", "/bin/dpkg-deb").map(Path::of)
        .filter(Files::isExecutable).findFirst();
    Assumptions.assumeTrue(dpkgDeb.isPresent(),
        "dpkg-deb is not installed here, so the build made no Debian package: skipped");
    Path distDir = Path.of(System.getProperty("infraveil.dist.dir", "../dist/target"));
    Path deb;
    try (Stream<Path> files = Files.list(distDir)) {
      deb = files.filter(p -> p.getFileName().toString().matches("infraveil_.*_all\\.deb"))
          .findFirst().orElseThrow(() -> new AssertionError("dpkg-deb is installed but "
              + distDir + " has no infraveil_*_all.deb: the dist module's deb profile did not run"));
    }
    Path run = Cluster.runDir("ReleaseInstallIT-deb");
    String fields = Release.run(List.of(dpkgDeb.get().toString(), "--field", deb.toString(),
        "Package", "Architecture", "Depends"), run, Duration.ofSeconds(30)).ok().output();
    assertTrue(fields.contains("Package: infraveil"), fields);
    assertTrue(fields.contains("Architecture: all"), fields);
    assertTrue(fields.contains("java17-runtime-headless"), fields);
    Release.run(List.of(dpkgDeb.get().toString(), "-e", deb.toString(),
        run.resolve("control").toString()), run, Duration.ofSeconds(30)).ok();
    assertTrue(Files.readString(run.resolve("control/postinst"))
        .contains("/usr/lib/infraveil/release/install.sh"));

    // Unpacked, it is the tarball's release, and its installer lays it out the same way.
    Release.run(List.of(dpkgDeb.get().toString(), "-x", deb.toString(),
        run.resolve("unpacked").toString()), run, Duration.ofSeconds(60)).ok();
    Path packaged = run.resolve("unpacked/usr/lib/infraveil/release");
    Path release = Release.extract(run.resolve("download"));
    assertEquals(jarNames(release), jarNames(packaged));
    Path root = run.resolve("root");
    Release.install(packaged, root);
    assertTrue(Files.isExecutable(root.resolve("opt/infraveil/current/bin/infraveil")));
    assertTrue(Files.isRegularFile(root.resolve("etc/systemd/system/infraveil-launcher.service")));
  }

  private static List<String> jarNames(Path release) throws Exception {
    try (Stream<Path> files = Files.walk(release.resolve("lib"))) {
      return files.filter(Files::isRegularFile).map(p -> release.relativize(p).toString())
          .sorted().toList();
    }
  }

  // ------------------------------------------------------------------ helpers

  /** {@code ROOT/usr/local/bin/infraveil ARGS}, which must exit 0 within a minute. */
  private static Release.Result ok(Path root, String... args) throws Exception {
    return Release.run(Release.command(root, args), root, Duration.ofSeconds(60)).ok();
  }

  /**
   * The installed unit's ExecStart, its absolute paths moved into ROOT, run with this JVM's
   * java, plus {@code extra}.
   */
  private static List<String> unitCommand(Path root, String unit, String... extra)
      throws Exception {
    String execStart = Files.readString(root.resolve("etc/systemd/system").resolve(unit)).lines()
        .filter(line -> line.startsWith("ExecStart=")).findFirst().orElseThrow()
        .substring("ExecStart=".length());
    List<String> words = new ArrayList<>(List.of(execStart.split(" +")));
    String program = words.remove(0);
    List<String> args = new ArrayList<>();
    for (String word : words) {
      args.add(word.startsWith("/") ? root + word : word);
    }
    args.addAll(List.of(extra));
    List<String> command = Release.command(root, args.toArray(String[]::new));
    // Release.command runs ROOT/usr/local/bin/infraveil: the unit names the same program.
    assertEquals("/opt/infraveil/current/bin/infraveil", program);
    return command;
  }

  /**
   * The worker's launcher.yaml as docs/install.md has the operator edit it: the installed
   * example with this test's control plane and the CA's path in the scratch root; a metrics
   * port of its own (three hosts share one loopback); plus, for the test, reports every second
   * and reconnects within 2 s.
   */
  private static void editLauncherConfig(Path root, int grpcPort, int metricsPort)
      throws Exception {
    Path file = root.resolve("etc/infraveil/launcher.yaml");
    String text = Files.readString(file);
    Map<String, String> edits = Map.of(
        "control-plane: controlplane.example.com:7443", "control-plane: localhost:" + grpcPort,
        "ca: /etc/infraveil/ca.crt", "ca: " + root.resolve("etc/infraveil/ca.crt"),
        "metrics-port: 7081", "metrics-port: " + metricsPort);
    for (Map.Entry<String, String> edit : edits.entrySet()) {
      assertTrue(text.lines().anyMatch(edit.getKey()::equals),
          "the example launcher.yaml no longer has the line \"" + edit.getKey() + "\":\n" + text);
      text = text.replace(edit.getKey() + "\n", edit.getValue() + "\n");
    }
    Files.writeString(file, text + """
        report-interval: 1s
        reconcile-interval: 1s
        stop-grace: 5s
        reconnect-max: 2s
        """);
  }

  /**
   * The worker's {@code infraveil launcher enroll ...} command from the release's
   * docs/install.md (its continuation lines joined), as words; the unit's comment and the
   * installer's closing advice must name the same command.
   */
  private static List<String> docEnrollCommand(Path release) throws Exception {
    String doc = Files.readString(release.resolve("docs/install.md"));
    Matcher matcher = Pattern.compile("(?m)^infraveil launcher enroll (?:.*\\\\\n)*.*$")
        .matcher(doc);
    assertTrue(matcher.find(), "docs/install.md shows the worker's `infraveil launcher enroll`");
    List<String> words = List.of(matcher.group().replace("\\\n", " ").strip().split("\\s+"));
    String command = String.join(" ", words);
    assertTrue(words.containsAll(List.of("--token", "TOKEN", "--name", "worker-1")), command);
    String generic = command.replace("TOKEN", "T").replace("worker-1", "N");
    String unit = Files.readString(release.resolve("systemd/infraveil-launcher.service"));
    assertTrue(unit.contains(generic), "the launcher unit's comment says `" + generic + "`");
    assertTrue(Files.readString(release.resolve("install.sh")).contains(generic),
        "install.sh's closing advice says `" + generic + "`");
    return words;
  }

  /** The doc's enroll command for this worker: its token and name, paths moved into ROOT. */
  private static String[] enrollArgs(List<String> docWords, Path root, String token,
      String name) {
    assertEquals("infraveil", docWords.get(0));
    List<String> args = new ArrayList<>();
    for (String word : docWords.subList(1, docWords.size())) {
      args.add(switch (word) {
        case "TOKEN" -> token;
        case "worker-1" -> name;
        default -> word.startsWith("/") ? root + word : word;
      });
    }
    return args.toArray(String[]::new);
  }

  private Node start(Path run, String name, Path root, List<String> command) throws Exception {
    Node node = Node.start(name, command, root, run.resolve("logs").resolve(name + ".log"));
    nodes.add(node);
    return node;
  }

  /** A copy of the release's examples/hello on {@code port} (tests never use 8080). */
  private static Path helloCopy(Path release, Path target, int port) throws Exception {
    Cluster.copyTree(release.resolve("examples/hello"), target);
    Files.writeString(target.resolve("VERSION"), "v1\n");
    Path config = target.resolve("config.yaml");
    String text = Files.readString(config);
    assertTrue(text.contains("8080"), "examples/hello/config.yaml no longer names port 8080");
    Files.writeString(config, text.replace("8080", Integer.toString(port)));
    return target;
  }

  /** Every file below {@code dir}: its content's SHA-256, size, mode and modification time. */
  private static Map<String, String> fileStamps(Path dir) throws Exception {
    Map<String, String> stamps = new java.util.TreeMap<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.toList()) {
        String stamp = Files.getLastModifiedTime(file) + " "
            + java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(file));
        if (Files.isRegularFile(file)) {
          stamp += " " + java.util.HexFormat.of().formatHex(
              java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        }
        stamps.put(dir.relativize(file).toString(), stamp);
      }
    }
    assertTrue(stamps.size() > 1, "files in " + dir + ": " + stamps);
    return stamps;
  }

  private static long agentPid(Path agentDir) throws Exception {
    Matcher matcher = LOCK_PID.matcher(Files.readString(agentDir.resolve("agent.lock")));
    assertTrue(matcher.find(), "agent.lock names a pid");
    long pid = Long.parseLong(matcher.group(1));
    assertTrue(ProcessScan.isAlive(pid), "agent " + pid + " is alive");
    return pid;
  }

  private static List<String> releases(Path opt) throws Exception {
    try (Stream<Path> dirs = Files.list(opt.resolve("releases"))) {
      return dirs.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private void waitForHostOnline(Path context, String name, java.util.Collection<Node> watch)
      throws Exception {
    await("host " + name + " online", STARTUP, () -> {
      for (Node node : watch) {
        if (!node.isAlive()) {
          throw new AssertionError(node + " exited:\n" + node.output());
        }
      }
      for (JsonNode host : ctlJson(context, "hosts").path("hosts")) {
        if (host.path("name").asText().equals(name)
            && host.path("connection").asText().equals("HOST_CONNECTION_ONLINE")) {
          return true;
        }
      }
      return false;
    });
  }

  /** {@code ctl -o json ARGS} in this JVM: quick polling (the walkthrough's calls run the tree's). */
  private static JsonNode ctlJson(Path context, String... args) throws Exception {
    List<String> full = new ArrayList<>(List.of("ctl", "--context", context.toString(), "-o", "json"));
    full.addAll(List.of(args));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = new Main(Map.of()).execute(full.toArray(String[]::new), o, e);
    }
    if (code != 0) {
      throw new AssertionError("ctl " + full + " exit " + code + ": " + err);
    }
    return JSON.readTree(out.toString(StandardCharsets.UTF_8));
  }

  private void waitForLine(Node node, String text) throws Exception {
    await(node.name() + " prints \"" + text + "\"", STARTUP, () -> {
      if (node.output().contains(text)) {
        return true;
      }
      if (!node.isAlive()) {
        throw new AssertionError(node + " exited before printing \"" + text + "\"");
      }
      return false;
    });
  }

  private void await(String what, Duration timeout, Cluster.Check check)
      throws InterruptedException {
    Cluster.await(what, timeout, check, this::logs);
  }

  /** The tail of every process log and every agent's and service's log, for a failure. */
  private String logs() {
    StringBuilder text = new StringBuilder();
    for (Node node : nodes) {
      text.append("----- ").append(node.name()).append('\n').append(Cluster.tail(node.logFile(), 40));
    }
    if (run != null) {
      try (Stream<Path> files = Files.walk(run)) {
        files.filter(p -> p.toString().endsWith(".log") && p.toString().contains("/agents/"))
            .sorted().forEach(p -> text.append("----- ").append(run.relativize(p)).append('\n')
                .append(Cluster.tail(p, 40)));
      } catch (Exception e) {
        text.append("(cannot list agent logs: ").append(e).append(")\n");
      }
    }
    return text.toString();
  }

  /** Kills every process this test started and everything still running under the run dir. */
  private void stopAll(Path run) throws Exception {
    for (Node node : nodes) {
      if (node.isAlive()) {
        node.kill9();
      }
    }
    ProcessScan.killAllUnder(run, Duration.ofSeconds(15));
    List<ProcessScan.Found> left = ProcessScan.under(run);
    assertTrue(left.isEmpty(), "processes left behind under " + run + ": " + left);
  }
}
