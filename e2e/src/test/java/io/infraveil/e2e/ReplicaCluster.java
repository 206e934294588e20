package io.infraveil.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.infraveil.certs.Identity;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.cli.Main;
import io.infraveil.devpostgres.LocalPostgres;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One installation served by several control-plane replicas on one PostgreSQL, as real
 * processes, in one directory (the multi-replica counterpart of {@link Cluster}):
 *
 * <pre>
 * ROOT/pki/              CA, operator "e2e", the server certificate (issued by the first replica)
 * ROOT/master.key        the payload master key, one file given to every replica
 * ROOT/postgres/         the PostgreSQL (LocalPostgres; its data dir moves to the temp dir as root)
 * ROOT/cpI/, cpI.yaml    replica cpI's data dir and config (name, database user, fast reports)
 * ROOT/ctl-cpI.yaml      a ctl context that talks to cpI only
 * ROOT/hosts/NAME/       host data dirs; each has a hello-port file (see {@link #helloApp})
 * ROOT/logs/*.log        every process started here
 * </pre>
 *
 * Which replica holds a host's Sync stream is read from the launcher's own TCP connections
 * ({@code /proc/PID/fd} and {@code /proc/net/tcp*}), not from what the replicas say.
 */
final class ReplicaCluster implements AutoCloseable {

  static final String DATABASE = "infraveil";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String OPERATOR = "e2e";
  private static final Pattern TS = Pattern.compile("^ts=(\\S+) ");
  /** The start command of {@link #helloApp}: this host's port, then the precompiled hello. */
  private static final String HELLO_START =
      ". ./port.sh && exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp . Hello";

  private final Path root;
  private final PkiDirectory pki;
  private final Path masterKey;
  private final List<Replica> replicas = new ArrayList<>();
  private final Map<String, Host> hosts = Collections.synchronizedMap(new LinkedHashMap<>());
  private final List<Node> nodes = Collections.synchronizedList(new ArrayList<>());
  private LocalPostgres postgres;
  private LocalPostgres.Database database;
  private int apps;

  private ReplicaCluster(Path root) throws IOException {
    this.root = ProcessScan.realPath(Files.createDirectories(root));
    this.pki = new PkiDirectory(this.root.resolve("pki"), Clock.systemUTC());
    this.masterKey = this.root.resolve("master.key");
  }

  /**
   * PKI, master key, PostgreSQL and {@code count} replicas, all ready: the first alone (it
   * issues the server certificate and migrates the schema), then the others together.
   */
  static ReplicaCluster start(Path root, int count) throws Exception {
    ReplicaCluster cluster = new ReplicaCluster(root);
    try {
      cluster.pki.init("e2e.infraveil");
      cluster.pki.issue(Identity.Kind.OPERATOR, OPERATOR, List.of(), Duration.ofDays(1));
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      Files.write(cluster.masterKey, key);
      Files.setPosixFilePermissions(cluster.masterKey, PosixFilePermissions.fromString("rw-------"));
      cluster.postgres = LocalPostgres.start(cluster.root.resolve("postgres"));
      cluster.database = cluster.postgres.database(DATABASE);
      for (int i = 1; i <= count; i++) {
        cluster.replicas.add(cluster.new Replica(i, Cluster.freePort(), Cluster.freePort()));
      }
      cluster.replicas.get(0).start();
      cluster.replicas.get(0).awaitReady();
      for (Replica replica : cluster.replicas.subList(1, count)) {
        replica.start();
      }
      for (Replica replica : cluster.replicas.subList(1, count)) {
        replica.awaitReady();
      }
      return cluster;
    } catch (Exception | AssertionError e) {
      cluster.close();
      throw e;
    }
  }

  Path root() {
    return root;
  }

  LocalPostgres postgres() {
    return postgres;
  }

  List<Replica> replicas() {
    return List.copyOf(replicas);
  }

  Replica replica(int index) {
    return replicas.get(index - 1);
  }

  /** A replica that runs, for questions any of them must answer. */
  Replica anyLive() {
    return replicas.stream().filter(Replica::isAlive).findFirst()
        .orElseThrow(() -> new AssertionError("no replica is running"));
  }

  Replica byName(String name) {
    return replicas.stream().filter(r -> r.name().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no replica named " + name + "; have "
            + replicas.stream().map(Replica::name).toList()));
  }

  Host host(String name) {
    Host host = hosts.get(name);
    if (host == null) {
      throw new IllegalArgumentException("no host " + name + "; have " + hosts.keySet());
    }
    return host;
  }

  /** Starts every replica that is not running, and waits until each is ready. */
  void startStopped() throws Exception {
    List<Replica> started = new ArrayList<>();
    for (Replica replica : replicas) {
      if (!replica.isAlive()) {
        replica.start();
        started.add(replica);
      }
    }
    for (Replica replica : started) {
      replica.awaitReady();
    }
  }

  // ---------------------------------------------------------------- replicas

  /** One control-plane replica: name cpI, its ports, data dir, config and ctl context. */
  final class Replica {
    private final int index;
    private final int grpcPort;
    private final int httpPort;
    private final Path context;
    private volatile Node node;

    private Replica(int index, int grpcPort, int httpPort) throws IOException {
      this.index = index;
      this.grpcPort = grpcPort;
      this.httpPort = httpPort;
      this.context = root.resolve("ctl-" + name() + ".yaml");
      Files.writeString(context, """
          # ctl through replica %s only
          endpoint: localhost:%d
          ca: pki/ca.crt
          cert: pki/%s.crt
          key: pki/%s.key
          """.formatted(name(), grpcPort, OPERATOR, OPERATOR));
      // Launchers here report every second; replicas count 2 s intervals (a host is offline
      // after 6 s): each replica's view of hosts held elsewhere is up to two presence rounds
      // (1 s each) old, and at 1 s a live host on another replica was seen offline by the
      // leader, its incident opened and resolved again.
      Files.writeString(root.resolve(name() + ".yaml"), """
          replica-name: %s
          datasource.username: %s
          master-key-file: %s
          report-interval: 2s
          incident-check-interval: 1s
          """.formatted(name(), database.user(), masterKey));
    }

    String name() {
      return "cp" + index;
    }

    int grpcPort() {
      return grpcPort;
    }

    String endpoint() {
      return "localhost:" + grpcPort;
    }

    Node node() {
      return node;
    }

    boolean isAlive() {
      return node != null && node.isAlive();
    }

    private void start() throws IOException {
      if (isAlive()) {
        throw new IllegalStateException(name() + " is already running: " + node);
      }
      Path data = root.resolve(name());
      node = ReplicaCluster.this.start(name(), data, Cluster.mainCommand("controlplane",
          "--config", root.resolve(name() + ".yaml").toString(),
          "--data-dir", data.toString(), "--certs", pki.dir().toString(),
          "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort),
          "--database", database.jdbcUrl()));
    }

    private void awaitReady() throws InterruptedException {
      Node started = node;
      waitFor(name() + " ready", Cluster.STARTUP, () -> {
        if (started.output().contains("controlplane ready")) {
          return true;
        }
        if (!started.isAlive()) {
          throw new AssertionError(started + " exited before it was ready");
        }
        return false;
      });
    }

    /** Starts it again (same ports, data and database) and waits until it is ready. */
    void restart() throws Exception {
      start();
      awaitReady();
    }

    void kill9() {
      node.kill9();
    }

    @Override
    public String toString() {
      return name() + "(" + endpoint() + (node == null ? "" : ", pid " + node.pid()) + ")";
    }
  }

  /** The replica whose gRPC port {@code port} is, if any. */
  Optional<Replica> replicaOnPort(int port) {
    return replicas.stream().filter(r -> r.grpcPort() == port).findFirst();
  }

  // ---------------------------------------------------------------- hosts

  /** One enrolled host: data dir, the replicas its launcher is given (in order), its launcher. */
  final class Host {
    private final String name;
    private final Path dataDir;
    private final List<Replica> order;
    private final int helloPort;
    private volatile Node launcher;

    private Host(String name, List<Replica> order, int helloPort) {
      this.name = name;
      this.dataDir = root.resolve("hosts").resolve(name);
      this.order = List.copyOf(order);
      this.helloPort = helloPort;
    }

    String name() {
      return name;
    }

    Path dataDir() {
      return dataDir;
    }

    int helloPort() {
      return helloPort;
    }

    Node launcher() {
      return launcher;
    }

    Path agentDir(String deployment) {
      return dataDir.resolve("agents").resolve(deployment);
    }

    /** The agent pid the launcher saved for {@code deployment}, or -1. */
    long agentPid(String deployment) throws IOException {
      JsonNode process = JSON.readTree(dataDir.resolve("launcher_state.json").toFile())
          .path("agents").path(deployment).path("process");
      return process.isMissingNode() || process.isNull() ? -1 : process.path("pid").asLong(-1);
    }

    /** The live pid of {@code service} (cluster index 0) saved by the agent of {@code deployment}. */
    OptionalLong servicePid(String deployment, String service) {
      return Cluster.savedServicePid(agentDir(deployment), service);
    }

    long pidOfService(String deployment, String service) {
      return servicePid(deployment, service).orElseThrow(() -> new AssertionError("no live process"
          + " for service " + service + " of " + deployment + " on " + name + "\n" + processLogs()));
    }

    /**
     * The replicas the launcher has an established TCP connection to: the one holding its Sync
     * stream (one channel, pick-first over the list).
     */
    Set<Replica> connectedReplicas() {
      Set<Replica> out = new HashSet<>();
      if (launcher == null || !launcher.isAlive()) {
        return out;
      }
      for (int port : establishedRemotePorts(launcher.pid())) {
        replicaOnPort(port).ifPresent(out::add);
      }
      return out;
    }

    /** The one replica holding this host's stream; fails when there is none or several. */
    Replica holder() {
      Set<Replica> connected = connectedReplicas();
      if (connected.size() != 1) {
        throw new AssertionError("host " + name + "'s launcher is connected to " + connected
            + ", expected exactly one replica");
      }
      return connected.iterator().next();
    }

    private List<String> launcherCommand(String joinToken) {
      List<String> args = new ArrayList<>(List.of("launcher",
          "--data-dir", dataDir.toString(),
          "--control-plane", String.join(",", order.stream().map(Replica::endpoint).toList()),
          "--ca", pki.caCertFile().toString(), "--name", name,
          "--report-interval", "PT1S", "--reconcile-interval", "PT1S", "--stop-grace", "PT5S"));
      args.addAll(Battle.fastHost());
      if (joinToken != null) {
        args.addAll(List.of("--join-token", joinToken));
      }
      return Cluster.mainCommand(args.toArray(String[]::new));
    }

    /** Starts the launcher again after a kill (same identity, no token). */
    Node restartLauncher() throws IOException {
      if (launcher != null && launcher.isAlive()) {
        throw new IllegalStateException("launcher " + name + " is still running: " + launcher);
      }
      launcher = start("launcher-" + name, dataDir, launcherCommand(null));
      return launcher;
    }

    @Override
    public String toString() {
      return "host " + name;
    }
  }

  /**
   * Enrolls host {@code name} (token from the first replica of {@code order}) and starts its
   * launcher with every replica, in {@code order}; hello listens on a port of its own, written
   * to the host's data dir. Waits until the host is online.
   */
  Host startHost(String name, List<Replica> order) throws Exception {
    Host host = new Host(name, order, Cluster.freePort());
    hosts.put(name, host);
    Files.createDirectories(host.dataDir);
    Files.writeString(host.dataDir.resolve("hello-port"), host.helloPort + "\n");
    String token = ctlJson(order.get(0), "tokens", "create", name).path("joinToken").asText();
    host.launcher = start("launcher-" + name, host.dataDir, host.launcherCommand(token));
    waitForOnline(host, anyLive(), Cluster.STARTUP);
    return host;
  }

  /** Waits until {@code via} reports {@code host} online. */
  void waitForOnline(Host host, Replica via, Duration timeout) throws InterruptedException {
    waitFor(host + " online according to " + via.name(), timeout, () -> isOnline(host, via));
  }

  boolean isOnline(Host host, Replica via) {
    return connection(host, via).equals("HOST_CONNECTION_ONLINE");
  }

  /** The host's connection as {@code ctl hosts} through {@code via} says it. */
  String connection(Host host, Replica via) {
    for (JsonNode h : ctlJson(via, "hosts").path("hosts")) {
      if (h.path("name").asText().equals(host.name())) {
        return h.path("connection").asText();
      }
    }
    return "unknown host";
  }

  // ---------------------------------------------------------------- apps

  /**
   * examples/hello as version {@code version}, compiled here once (a start is a JVM start, not a
   * compilation), reading its port from the nearest {@code hello-port} above its release
   * directory, so one payload serves every host of this machine on a port of its own.
   */
  synchronized Path helloApp(String version) throws IOException {
    Path dir = root.resolve("apps").resolve("hello-" + version + "-" + (++apps));
    Cluster.copyTree(Cluster.repoRoot().resolve("examples/hello"), dir);
    Files.writeString(dir.resolve("VERSION"), version + "\n");
    int compiled = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null,
        "-d", dir.toString(), dir.resolve("Hello.java").toString());
    if (compiled != 0) {
      throw new AssertionError("javac Hello.java exited " + compiled);
    }
    Files.writeString(dir.resolve("port.sh"), """
        d=$(pwd)
        while [ "$d" != / ] && [ ! -f "$d/hello-port" ]; do d=$(dirname "$d"); done
        PORT=$(cat "$d/hello-port")
        export PORT
        """);
    Files.writeString(dir.resolve("config.yaml"), """
        services:
          hello:
            run:
              start: [ "%s" ]
            healthcheck:
              cmd: bash -c '. ./port.sh && exec 3<>/dev/tcp/127.0.0.1/$PORT && printf "GET /health HTTP/1.0\\r\\n\\r\\n" >&3 && cat <&3'
              test: ok
              interval: 1s
              timeout: 3s
              start_period: 60s
        """.formatted(HELLO_START));
    return dir;
  }

  /** A service that only sleeps: for deployments whose versions matter, not what they run. */
  synchronized Path sleeperApp(String version) throws IOException {
    Path dir = root.resolve("apps").resolve("sleeper-" + version + "-" + (++apps));
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("VERSION"), version + "\n");
    Files.writeString(dir.resolve("config.yaml"), """
        services:
          sleeper:
            run:
              start: [ "exec sleep 100000" ]
        """);
    return dir;
  }

  // ---------------------------------------------------------------- ctl

  /** {@code infraveil ctl ARGS} in this JVM, through {@code via} only. */
  Cluster.CtlResult ctl(Replica via, String... args) {
    List<String> full = new ArrayList<>(List.of("ctl", "--context", via.context.toString()));
    full.addAll(List.of(args));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = new Main(Map.of()).execute(full.toArray(String[]::new), outStream, errStream);
    }
    return new Cluster.CtlResult(List.of(args), code, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  String ctlOk(Replica via, String... args) {
    Cluster.CtlResult result = ctl(via, args);
    if (result.code() != 0) {
      throw new AssertionError("expected exit 0 through " + via + " from " + result);
    }
    return result.out();
  }

  JsonNode ctlJson(Replica via, String... args) {
    List<String> full = new ArrayList<>(List.of("-o", "json"));
    full.addAll(List.of(args));
    String out = ctlOk(via, full.toArray(String[]::new));
    try {
      return JSON.readTree(out);
    } catch (IOException e) {
      throw new AssertionError("ctl " + full + " printed no JSON:\n" + out, e);
    }
  }

  // ---------------------------------------------------------------- logs and waiting

  void waitFor(String description, Duration timeout, Cluster.Check check) throws InterruptedException {
    Cluster.await(description, timeout, check, this::processLogs);
  }

  /**
   * The time stamp of the first line of {@code node}'s output after character {@code from} that
   * contains {@code text}, if any.
   */
  static Optional<Instant> firstLineAfter(Node node, int from, String text) {
    String output = node.output();
    int at = output.indexOf(text, Math.min(from, output.length()));
    if (at < 0) {
      return Optional.empty();
    }
    int start = output.lastIndexOf('\n', at) + 1;
    Matcher m = TS.matcher(output.substring(start, at));
    return m.find() ? Optional.of(Instant.parse(m.group(1))) : Optional.empty();
  }

  /** The last lines of every log here: processes started by the test, agents, services. */
  String processLogs() {
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
      text.append("----- ").append(root.relativize(log)).append('\n').append(Cluster.tail(log, 40));
    }
    return text.toString();
  }

  private Node start(String name, Path workDir, List<String> command) throws IOException {
    Node node = Node.start(name, command, workDir, root.resolve("logs").resolve(name + ".log"));
    nodes.add(node);
    return node;
  }

  /**
   * Remote ports of the ESTABLISHED TCP connections of process {@code pid}: its socket inodes
   * from {@code /proc/PID/fd}, matched in {@code /proc/net/tcp} and {@code tcp6}.
   */
  static Set<Integer> establishedRemotePorts(long pid) {
    Set<String> inodes = new HashSet<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      fds.forEach(fd -> {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring("socket:[".length(), target.length() - 1));
          }
        } catch (IOException e) {
          // closed meanwhile
        }
      });
    } catch (IOException | UncheckedIOException e) {
      return Set.of(); // gone
    }
    Set<Integer> ports = new HashSet<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      try {
        for (String line : Files.readAllLines(Path.of(table), StandardCharsets.US_ASCII)) {
          String[] f = line.trim().split("\\s+");
          // sl local rem st tx:rx tr:when retrnsmt uid timeout inode; 01 = ESTABLISHED
          if (f.length > 9 && f[3].equals("01") && inodes.contains(f[9])) {
            ports.add(Integer.parseInt(f[2].substring(f[2].indexOf(':') + 1), 16));
          }
        }
      } catch (IOException | RuntimeException e) {
        // no IPv6 table here
      }
    }
    return ports;
  }

  /**
   * SIGKILLs every process started here, stops PostgreSQL, then kills whatever still runs under
   * ROOT (agents and services outlive their launchers) and fails if anything is left.
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
    if (postgres != null) {
      postgres.stop();
      // As root the data dir lives in the temp dir (ROOT is private): remove it with the run.
      Path base = postgres.dataDir().getParent();
      if (!postgres.dataDir().startsWith(root) && base.getFileName().toString().startsWith("infraveil-postgres-data-")) {
        try (Stream<Path> files = Files.walk(base)) {
          files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
      }
    }
    List<ProcessScan.Found> killed = ProcessScan.killAllUnder(root, Duration.ofSeconds(15));
    if (!killed.isEmpty()) {
      System.out.println("replica cluster " + root.getFileName() + ": killed " + killed.size()
          + " process(es) that outlived their parents: " + killed);
    }
    List<ProcessScan.Found> left = ProcessScan.under(root);
    if (!left.isEmpty()) {
      throw new AssertionError("processes left behind under " + root + ": " + left);
    }
  }
}
