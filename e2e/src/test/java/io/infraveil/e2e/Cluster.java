package io.infraveil.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.infraveil.certs.Identity;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * A whole Infraveil installation on this machine, as real processes, in one directory:
 *
 * <pre>
 * ROOT/pki/                 CA, operator "e2e" (ctl), server certificate made by the control plane
 * ROOT/ctl.yaml             ctl context
 * ROOT/controlplane/        control plane data dir (H2, master key)
 * ROOT/hosts/NAME/          host data dir of launcher NAME (identity, cache, agents/...)
 * ROOT/apps/                copies of examples/hello moved to a free port, Hello.java compiled
 * ROOT/logs/*.log           stdout+stderr of every process started here
 * </pre>
 *
 * Processes run with this JVM's classpath ({@code java -cp ... io.infraveil.cli.Main ...}).
 * {@link #close()} SIGKILLs everything it started, then everything that still runs under ROOT
 * (agents and services run in their own sessions and outlive their parents), and fails when a
 * process is still left. ROOT stays on disk (under {@code target/e2e-runs/}) for a post-mortem.
 */
public final class Cluster implements AutoCloseable {

  /** How long a JVM program gets to come up. */
  public static final Duration STARTUP = Duration.ofSeconds(60);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String OPERATOR = "e2e";

  private final Path root;
  private final PkiDirectory pki;
  private final Path context;
  private final int grpcPort;
  private final int httpPort;
  private final int helloPort;
  /** Every process started here, in order. */
  private final List<Node> nodes = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, Host> hosts = Collections.synchronizedMap(new LinkedHashMap<>());
  private volatile Node controlPlane;
  private int apps;

  private Cluster(Path root) throws IOException {
    this.root = ProcessScan.realPath(Files.createDirectories(root));
    this.pki = new PkiDirectory(this.root.resolve("pki"), Clock.systemUTC());
    this.context = this.root.resolve("ctl.yaml");
    this.grpcPort = freePort();
    this.httpPort = freePort();
    this.helloPort = freePort();
  }

  /** A fresh directory for one test run: {@code target/e2e-runs/NAME-TIMESTAMP}. */
  public static Path runDir(String name) throws IOException {
    Path runs = Path.of(System.getProperty("infraveil.e2e.runs", "target/e2e-runs"));
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("MMdd-HHmmss-SSS"));
    return Files.createDirectories(runs.resolve(name + "-" + stamp)).toAbsolutePath();
  }

  /** PKI, ctl context and a control plane that is ready; no host yet. */
  public static Cluster start(Path root) throws Exception {
    Cluster cluster = new Cluster(root);
    try {
      cluster.pki.init("e2e.infraveil");
      cluster.pki.issue(Identity.Kind.OPERATOR, OPERATOR, List.of(), Duration.ofDays(1));
      Files.writeString(cluster.context, """
          # ctl context of an e2e cluster
          endpoint: localhost:%d
          ca: pki/ca.crt
          cert: pki/%s.crt
          key: pki/%s.key
          """.formatted(cluster.grpcPort, OPERATOR, OPERATOR));
      cluster.startControlPlane();
      return cluster;
    } catch (Exception | AssertionError e) {
      cluster.close();
      throw e;
    }
  }

  // ---------------------------------------------------------------- where things are

  public Path root() {
    return root;
  }

  public PkiDirectory pki() {
    return pki;
  }

  public Path caFile() {
    return pki.caCertFile();
  }

  public Path context() {
    return context;
  }

  public int grpcPort() {
    return grpcPort;
  }

  public int httpPort() {
    return httpPort;
  }

  /** The control plane's gRPC endpoint as launchers and ctl use it. */
  public String grpcEndpoint() {
    return "localhost:" + grpcPort;
  }

  /** The port {@link #helloApp} copies listen on (never 8080). */
  public int helloPort() {
    return helloPort;
  }

  public Node controlPlane() {
    return controlPlane;
  }

  public Host host(String name) {
    Host host = hosts.get(name);
    if (host == null) {
      throw new IllegalArgumentException("no host " + name + " in this cluster; have " + hosts.keySet());
    }
    return host;
  }

  // ---------------------------------------------------------------- the control plane

  /** Starts (or starts again, same ports and data) the control plane; waits for its ready line. */
  public Node startControlPlane() throws Exception {
    if (controlPlane != null && controlPlane.isAlive()) {
      throw new IllegalStateException("the control plane is already running: " + controlPlane);
    }
    Path data = root.resolve("controlplane");
    Node node = start("controlplane", data, mainCommand("controlplane",
        "--data-dir", data.toString(), "--certs", pki.dir().toString(),
        "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort)));
    controlPlane = node;
    waitForLine(node, "controlplane ready", STARTUP);
    return node;
  }

  /** SIGKILL of the control plane. */
  public void kill9ControlPlane() {
    controlPlane.kill9();
  }

  // ---------------------------------------------------------------- hosts

  /** Enrolls host {@code name} with a join token and a launcher talking to the control plane. */
  public Host startHost(String name) throws Exception {
    return startHost(name, grpcEndpoint(), List.of());
  }

  /**
   * Enrolls host {@code name} with a launcher that talks to {@code endpoint} (the control plane,
   * or a proxy in front of it), with {@code extraArgs} after the defaults; waits until the host
   * is online.
   */
  public Host startHost(String name, String endpoint, List<String> extraArgs) throws Exception {
    return startHost(name, endpoint, extraArgs, Map.of());
  }

  /** Enrolls host {@code name} with {@code labels} (ctl tokens create --label k=v ...). */
  public Host startHost(String name, Map<String, String> labels) throws Exception {
    return startHost(name, grpcEndpoint(), List.of(), labels);
  }

  private Host startHost(String name, String endpoint, List<String> extraArgs,
      Map<String, String> labels) throws Exception {
    if (hosts.containsKey(name)) {
      throw new IllegalStateException("host " + name + " already started");
    }
    Host host = new Host(name, hostDataDir(name), endpoint, List.copyOf(extraArgs));
    hosts.put(name, host);
    List<String> tokenArgs = new ArrayList<>(List.of("tokens", "create", name));
    labels.forEach((k, v) -> tokenArgs.addAll(List.of("--label", k + "=" + v)));
    String token = ctlJson(tokenArgs.toArray(String[]::new)).path("joinToken").asText();
    host.launcher = start("launcher-" + name, host.dataDir, host.launcherCommand(token));
    waitForHostOnline(name);
    return host;
  }

  /** Where host {@code name}'s data dir is (or will be, before {@link #startHost}). */
  public Path hostDataDir(String name) {
    return root.resolve("hosts").resolve(name);
  }

  /** Starts the launcher of an enrolled host again (after a kill); waits until it is online. */
  public Node restartLauncher(String name) throws Exception {
    Host host = host(name);
    if (host.launcher != null && host.launcher.isAlive()) {
      throw new IllegalStateException("launcher " + name + " is still running: " + host.launcher);
    }
    host.launcher = start("launcher-" + name, host.dataDir, host.launcherCommand(null));
    // The control plane may still count the killed launcher as online: wait for this one.
    waitForLine(host.launcher, "action=sync_connected", STARTUP);
    waitForHostOnline(name);
    return host.launcher;
  }

  public void waitForHostOnline(String name) throws Exception {
    waitFor("host " + name + " online", STARTUP, () -> {
      for (JsonNode host : hosts().path("hosts")) {
        if (host.path("name").asText().equals(name)
            && host.path("connection").asText().equals("HOST_CONNECTION_ONLINE")) {
          return true;
        }
      }
      return false;
    });
  }

  /** One enrolled host: its data dir and its launcher process. */
  public final class Host {
    private final String name;
    private final Path dataDir;
    private final String endpoint;
    private final List<String> extraArgs;
    private volatile Node launcher;

    private Host(String name, Path dataDir, String endpoint, List<String> extraArgs) {
      this.name = name;
      this.dataDir = dataDir;
      this.endpoint = endpoint;
      this.extraArgs = extraArgs;
    }

    public String name() {
      return name;
    }

    public Path dataDir() {
      return dataDir;
    }

    public Node launcher() {
      return launcher;
    }

    /** {@code DATA/cache}: verified entries are {@code cache/<sha256>/}. */
    public Path cacheDir() {
      return dataDir.resolve("cache");
    }

    /** {@code DATA/agents/<deployment>}: the agent's working dir, releases, logs, state. */
    public Path agentDir(String deployment) {
      return dataDir.resolve("agents").resolve(deployment);
    }

    private List<String> launcherCommand(String joinToken) {
      List<String> args = new ArrayList<>(List.of("launcher",
          "--data-dir", dataDir.toString(), "--control-plane", endpoint,
          "--ca", caFile().toString(), "--name", name,
          "--report-interval", "PT1S", "--reconcile-interval", "PT1S", "--stop-grace", "PT5S"));
      if (joinToken != null) {
        args.addAll(List.of("--join-token", joinToken));
      }
      args.addAll(extraArgs);
      return mainCommand(args.toArray(String[]::new));
    }
  }

  // ---------------------------------------------------------------- ctl

  /** What a ctl command printed and its exit code. */
  public record CtlResult(List<String> args, int code, String out, String err) {
    @Override
    public String toString() {
      return "ctl " + String.join(" ", args) + " -> exit " + code + "\nstdout:\n" + out
          + "\nstderr:\n" + err;
    }
  }

  /** Runs {@code infraveil ctl ARGS} in this JVM with the cluster's context. */
  public CtlResult ctl(String... args) {
    List<String> full = new ArrayList<>(List.of("ctl", "--context", context.toString()));
    full.addAll(List.of(args));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = new Main(Map.of()).execute(full.toArray(String[]::new), outStream, errStream);
    }
    return new CtlResult(List.of(args), code, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  /** {@link #ctl}, which must exit 0; its stdout. */
  public String ctlOk(String... args) {
    CtlResult result = ctl(args);
    if (result.code() != 0) {
      throw new AssertionError("expected exit 0 from " + result);
    }
    return result.out();
  }

  /** {@code ctl -o json ARGS}, parsed. */
  public JsonNode ctlJson(String... args) {
    List<String> full = new ArrayList<>(List.of("-o", "json"));
    full.addAll(List.of(args));
    String out = ctlOk(full.toArray(String[]::new));
    try {
      return JSON.readTree(out);
    } catch (IOException e) {
      throw new AssertionError("ctl " + full + " printed no JSON:\n" + out, e);
    }
  }

  public String createJoinToken(String hostName) {
    return ctlJson("tokens", "create", hostName).path("joinToken").asText();
  }

  /** {@code ctl -o json deploy DIR --name NAME --hosts a,b}: {"upload": ..., "deployment": ...}. */
  public JsonNode deploy(Path dir, String name, String... hosts) {
    return ctlJson("deploy", dir.toString(), "--name", name, "--hosts", String.join(",", hosts));
  }

  /** {@code ctl -o json status}. */
  public JsonNode status() {
    return ctlJson("status");
  }

  /** {@code ctl -o json hosts}. */
  public JsonNode hosts() {
    return ctlJson("hosts");
  }

  /** The status of {@code deployment} on {@code host} in {@code ctl status}, or a missing node. */
  public JsonNode deploymentOnHost(String deployment, String host) {
    for (JsonNode d : status().path("deployments")) {
      if (d.path("name").asText().equals(deployment)) {
        for (JsonNode onHost : d.path("onHosts")) {
          if (onHost.path("hostName").asText().equals(host)) {
            return onHost;
          }
        }
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  /** The launcher's view of its agent for {@code deployment} in {@code ctl hosts}. */
  public JsonNode agentOnHost(String host, String deployment) {
    for (JsonNode h : hosts().path("hosts")) {
      if (h.path("name").asText().equals(host)) {
        for (JsonNode agent : h.path("agents")) {
          if (agent.path("deployment").asText().equals(deployment)) {
            return agent;
          }
        }
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  // ---------------------------------------------------------------- apps and services

  /** The start command of examples/hello as its config.yaml has it (source-file mode). */
  static final String HELLO_SOURCE_START = "start: [ \"exec java Hello.java\" ]";
  /**
   * The start command of {@link #helloApp} copies: the class compiled once by the harness, on a
   * quick-starting JVM. Source-file mode compiles Hello.java at every start, seconds of CPU on
   * two busy cores each time a service starts or heals; the example's own start line runs in
   * {@code DevCommandIT} and {@code ReleaseInstallIT}.
   */
  static final String HELLO_START =
      "start: [ \"exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp . Hello\" ]";

  /**
   * A copy of {@code examples/hello} under ROOT/apps with {@code VERSION} set to {@code version},
   * its port (config.yaml's {@code PORT} and health check) moved to {@link #helloPort()}, and
   * Hello.java compiled beside it ({@link #HELLO_START}).
   */
  public synchronized Path helloApp(String version) throws IOException {
    Path source = repoRoot().resolve("examples/hello");
    Path copy = root.resolve("apps").resolve("hello-" + version + "-" + (++apps));
    copyTree(source, copy);
    Files.writeString(copy.resolve("VERSION"), version + "\n");
    int compiled = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null,
        "-d", copy.toString(), copy.resolve("Hello.java").toString());
    if (compiled != 0) {
      throw new IllegalStateException("javac " + copy.resolve("Hello.java") + " exited " + compiled);
    }
    Path config = copy.resolve("config.yaml");
    String text = Files.readString(config);
    if (!text.contains("8080") || !text.contains(HELLO_SOURCE_START)) {
      throw new IllegalStateException(config + " no longer mentions port 8080 or "
          + HELLO_SOURCE_START + "; update the harness");
    }
    Files.writeString(config, text.replace("8080", Integer.toString(helloPort))
        .replace(HELLO_SOURCE_START, HELLO_START));
    return copy;
  }

  /** The pid the agent saved for {@code service} (cluster index 0), when alive. */
  public OptionalLong servicePid(String host, String deployment, String service) {
    return savedServicePid(host(host).agentDir(deployment), service);
  }

  /**
   * The pid saved in {@code agentDir/agent_state.json} for {@code service} (cluster index 0),
   * when that process is alive.
   */
  public static OptionalLong savedServicePid(Path agentDir, String service) {
    Path state = agentDir.resolve("agent_state.json");
    try {
      if (!Files.exists(state)) {
        return OptionalLong.empty();
      }
      JsonNode processes = JSON.readTree(state.toFile()).path("services").path(service)
          .path("processes");
      for (JsonNode process : processes) {
        if (process.path("clusterIndex").asInt() == 0) {
          long pid = process.path("pid").asLong();
          return pid > 0 && ProcessScan.isAlive(pid) ? OptionalLong.of(pid) : OptionalLong.empty();
        }
      }
      return OptionalLong.empty();
    } catch (IOException e) {
      return OptionalLong.empty(); // being replaced (atomic rename): ask again
    }
  }

  /** {@link #servicePid}, which must be there. */
  public long pidOfService(String host, String deployment, String service) {
    return servicePid(host, deployment, service).orElseThrow(() -> new AssertionError(
        "no live process for service " + service + " of " + deployment + " on " + host
            + "\n" + processLogs()));
  }

  /** GET http://127.0.0.1:PORT/PATH with short timeouts: the body (stripped), or empty. */
  public static Optional<String> httpGet(int port, String path) {
    try {
      HttpURLConnection connection = (HttpURLConnection)
          URI.create("http://127.0.0.1:" + port + path).toURL().openConnection();
      connection.setConnectTimeout(1000);
      connection.setReadTimeout(2000);
      try {
        if (connection.getResponseCode() != 200) {
          return Optional.empty();
        }
        try (InputStream in = connection.getInputStream()) {
          return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).strip());
        }
      } finally {
        connection.disconnect();
      }
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** SIGKILL of any process by pid (a service, an agent). */
  public static void kill9(long pid) {
    ProcessHandle.of(pid).ifPresent(handle -> {
      handle.destroyForcibly();
      try {
        handle.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new AssertionError("pid " + pid + " survived SIGKILL for 10 s", e);
      }
    });
  }

  // ---------------------------------------------------------------- waiting and logs

  /** A condition polled by {@link #waitFor}; an exception counts as "not yet". */
  @FunctionalInterface
  public interface Check {
    boolean test() throws Exception;
  }

  /**
   * Polls {@code check} every 100 ms until it holds; after {@code timeout} fails with the
   * description, the last exception and every log of the cluster.
   */
  public void waitFor(String description, Duration timeout, Check check) throws InterruptedException {
    await(description, timeout, check, this::processLogs);
  }

  /** {@link #waitFor} for tests without a cluster: {@code logs} says what to print on failure. */
  public static void await(String description, Duration timeout, Check check,
      java.util.function.Supplier<String> logs) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Throwable last = null;
    while (true) {
      try {
        if (check.test()) {
          return;
        }
      } catch (Exception | AssertionError e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        AssertionError failure = new AssertionError("timed out after " + timeout + " waiting for: "
            + description + (last == null ? "" : "\nlast error: " + last) + "\n" + logs.get());
        if (last != null) {
          failure.initCause(last);
        }
        throw failure;
      }
      Thread.sleep(100);
    }
  }

  /** Waits for a line containing {@code text} in a node's output; fails early if it exits. */
  public void waitForLine(Node node, String text, Duration timeout) throws InterruptedException {
    waitFor(node.name() + " prints \"" + text + "\"", timeout, () -> {
      if (node.output().contains(text)) {
        return true;
      }
      if (!node.isAlive()) {
        throw new AssertionError(node + " exited before printing \"" + text + "\"");
      }
      return false;
    });
  }

  /**
   * The last lines of every log under ROOT: each process started here, each agent's own output,
   * each service's console logs.
   */
  public String processLogs() {
    StringBuilder text = new StringBuilder();
    List<Path> logs = new ArrayList<>();
    synchronized (nodes) {
      for (Node node : nodes) {
        if (!logs.contains(node.logFile())) {
          logs.add(node.logFile());
        }
      }
    }
    try (Stream<Path> files = Files.walk(root.resolve("hosts"))) {
      files.filter(p -> p.toString().endsWith(".log") && Files.isRegularFile(p)).sorted()
          .forEach(logs::add);
    } catch (IOException | UncheckedIOException e) {
      // no host yet
    }
    for (Path log : logs) {
      text.append("----- ").append(root.relativize(log)).append('\n').append(tail(log, 40));
    }
    return text.toString();
  }

  static String tail(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
      List<String> last = all.subList(Math.max(0, all.size() - lines), all.size());
      return (all.size() > lines ? "... (" + (all.size() - lines) + " lines before)\n" : "")
          + String.join("\n", last) + "\n";
    } catch (IOException | UncheckedIOException e) {
      return "(cannot read: " + e + ")\n";
    }
  }

  /**
   * Prints a measured duration as {@code TIMING name: N ms} and appends it to
   * {@code target/e2e-runs/timings.txt}, for release notes. Tests never assert on it.
   */
  public static void timing(String name, Duration duration) {
    String line = "TIMING " + name + ": " + duration.toMillis() + " ms";
    System.out.println(line);
    Path runs = Path.of(System.getProperty("infraveil.e2e.runs", "target/e2e-runs"));
    try {
      Files.createDirectories(runs);
      Files.writeString(runs.resolve("timings.txt"), LocalDateTime.now() + " " + line + "\n",
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      // printing it is enough
    }
  }

  // ---------------------------------------------------------------- processes

  /** {@code java -cp <this JVM's classpath> io.infraveil.cli.Main ARGS}. */
  public static List<String> mainCommand(String... args) {
    List<String> command = new ArrayList<>(List.of(javaExecutable(), "-Xmx384m", "-XX:+UseSerialGC",
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(List.of(args));
    return command;
  }

  static String javaExecutable() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** Starts a process tracked by this cluster (killed by {@link #close()}), logging to ROOT/logs. */
  public Node start(String name, Path workDir, List<String> command) throws IOException {
    Node node = Node.start(name, command, workDir, root.resolve("logs").resolve(name + ".log"));
    nodes.add(node);
    return node;
  }

  /** Processes still running under ROOT (agents, services, anything started here). */
  public List<ProcessScan.Found> processesLeft() {
    return ProcessScan.under(root);
  }

  /**
   * SIGKILLs every process started here, then every process still running under ROOT, and
   * fails if any survives.
   */
  @Override
  public void close() throws Exception {
    List<Node> started;
    synchronized (nodes) {
      started = new ArrayList<>(nodes);
    }
    Collections.reverse(started);
    for (Node node : started) {
      if (node.isAlive()) {
        node.kill9();
      }
    }
    List<ProcessScan.Found> killed = ProcessScan.killAllUnder(root, Duration.ofSeconds(15));
    if (!killed.isEmpty()) {
      System.out.println("cluster " + root.getFileName() + ": killed " + killed.size()
          + " process(es) that outlived their parents: " + killed);
    }
    List<ProcessScan.Found> left = ProcessScan.under(root);
    if (!left.isEmpty()) {
      throw new AssertionError("processes left behind under " + root + ": " + left);
    }
  }

  // ---------------------------------------------------------------- static helpers

  /** A TCP port free on loopback right now. */
  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }

  /** The repository root (system property {@code infraveil.repo.root}, else found upwards). */
  public static Path repoRoot() {
    String configured = System.getProperty("infraveil.repo.root");
    if (configured != null) {
      return Path.of(configured).toAbsolutePath().normalize();
    }
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      if (Files.isDirectory(dir.resolve("examples/hello")) && Files.exists(dir.resolve("mvnw"))) {
        return dir;
      }
      dir = dir.getParent();
    }
    throw new IllegalStateException("cannot find the repository root above "
        + Path.of("").toAbsolutePath());
  }

  static void copyTree(Path source, Path target) throws IOException {
    try (Stream<Path> files = Files.walk(source)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Path to = target.resolve(source.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(to);
        } else {
          Files.copy(file, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }
}
