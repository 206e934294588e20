package io.infraveil.cli;

import io.infraveil.certs.Identity;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.host.fs.AtomicFiles;
import io.infraveil.payload.Sha256Hex;
import io.infraveil.payload.archive.PayloadArchive;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code infraveil dev}: the whole system on this machine. A CA and certificates, the control
 * plane and a launcher for host {@code local} as separate processes (as in production), and
 * {@code examples/hello} deployed. Either child is restarted when it dies, as systemd does in
 * production; SIGTERM or SIGINT stops everything, services included. Running it again resumes
 * from the data dir: same PKI, same host identity, no redeploy of an unchanged hello.
 *
 * <pre>
 * DIR/pki/            CA, operator "dev", the control plane's server certificate
 * DIR/ctl.yaml        ctl context (printed as INFRAVEIL_CONTEXT=...)
 * DIR/controlplane/   control plane data (H2)
 * DIR/host/           host data dir of "local" (identity, cache, agents/...)
 * DIR/hello/          the copy of examples/hello that is deployed (its port set)
 * DIR/logs/           controlplane.log, launcher.log
 * DIR/dev.pids        dev=PID, controlplane=PID, launcher=PID (rewritten on every restart)
 * </pre>
 *
 * <p>With {@code --replicas N} (N > 1) the control plane is N replicas of one installation on
 * PostgreSQL instead of one process on H2 (docs/high-availability.md):
 *
 * <pre>
 * DIR/postgres/       a local PostgreSQL (LocalPostgres), database "infraveil" on 127.0.0.1
 * DIR/master.key      the payload master key, one file given to every replica
 * DIR/cpI/            replica cpI's data dir (I = 1..N); DIR/cpI.yaml its name, database user, key file
 * DIR/logs/cpI.log    its output; gRPC on --grpc-port + I - 1, HTTPS on --http-port + I - 1
 * DIR/dev.pids        dev=, cp1= ... cpN=, launcher=, postgres= PIDs
 * </pre>
 *
 * The launcher and ctl.yaml list every replica; killing one moves the host to another.
 */
@Command(name = "dev", mixinStandardHelpOptions = true,
    description = "Run the whole system on this machine: CA, control plane, a launcher for "
        + "host `local`, and examples/hello deployed. Ctrl-C stops all of it.")
final class DevCommand implements Callable<Integer> {

  static final String HOST = "local";
  static final String OPERATOR = "dev";
  static final String DEPLOYMENT = "hello";
  static final String PIDS_FILE = "dev.pids";
  static final String POSTGRES = "postgres";
  /** The control plane's option for its database (PostgreSQL JDBC URL). */
  static final String DATABASE_OPTION = "--database";
  /** controlplane.yaml keys: the replica's name, the database user, the shared master key file. */
  static final String REPLICA_NAME_KEY = "replica-name";
  static final String DATABASE_USER_KEY = "datasource.username";
  static final String MASTER_KEY_FILE_KEY = "master-key-file";
  private static final Duration RESTART_BACKOFF = Duration.ofSeconds(1);
  private static final Duration CHILD_READY = Duration.ofSeconds(90);
  private static final Duration HELLO_READY = Duration.ofSeconds(120);
  private static final Duration STOP_GRACE = Duration.ofSeconds(30);

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = ".infraveil-dev",
      description = "Where everything lives; running again resumes from it (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--grpc-port", paramLabel = "P", defaultValue = "7443",
      description = "Control plane gRPC (mTLS) port (default: ${DEFAULT-VALUE}).")
  int grpcPort;

  @Option(names = "--http-port", paramLabel = "P", defaultValue = "7080",
      description = "Status page and operations API port (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--hello-port", paramLabel = "P", defaultValue = "8080",
      description = "Port hello listens on, on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
  int helloPort;

  @Option(names = "--replicas", paramLabel = "N", defaultValue = "1",
      description = "Control-plane replicas; above 1 they share a local PostgreSQL and use "
          + "consecutive ports from --grpc-port and --http-port (default: ${DEFAULT-VALUE}).")
  int replicas;

  @Option(names = "--postgres-port", paramLabel = "P", defaultValue = "7432",
      description = "Port of the local PostgreSQL started with --replicas above 1, on 127.0.0.1"
          + " (default: ${DEFAULT-VALUE}).")
  int postgresPort;

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  private Path dir;
  private PrintWriter out;
  private final Object lock = new Object();
  /** Guarded by {@link #lock}. */
  private boolean stopping;
  /** One child per replica; a single "controlplane" without --replicas. */
  private final List<Child> controlPlanes = new ArrayList<>();
  private Child launcher;
  /** The replicas' PostgreSQL; null with one control plane (H2). */
  private DevDatabase database;

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    dir = Files.createDirectories(dataDir).toRealPath();
    Files.createDirectories(dir.resolve("logs"));
    Path repo = repoRoot();
    checkReplicas();
    Path context = preparePki();
    stopLeftovers();

    if (replicated()) {
      for (int i = 1; i <= replicas; i++) {
        int index = i;
        controlPlanes.add(new Child(replicaName(i), () -> replicaArgs(index), false, "controlplane ready"));
      }
    } else {
      List<String> args = List.of("controlplane",
          "--data-dir", dir.resolve("controlplane").toString(), "--certs", dir.resolve("pki").toString(),
          "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort));
      controlPlanes.add(new Child("controlplane", () -> args, false, "controlplane ready"));
    }
    launcher = new Child("launcher", this::launcherArgs, true, "launcher_start");
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      stopAll();
      stopped.countDown();
    }, "infraveil-dev-stop");
    Runtime.getRuntime().addShutdownHook(hook);

    say("data dir " + dir + " (logs in " + dir.resolve("logs") + ")");
    if (replicated()) {
      startDatabase();
    }
    startControlPlanes();
    launcher.startAndWatch();
    launcher.awaitReady();
    awaitHostOnline(context);
    say("host " + HOST + " online (launcher pid " + launcher.process().pid() + ")");
    Path app = helloCopy(repo);
    deployIfChanged(context, app);
    printHowTo(context, repo);
    awaitHello();
    stopped.await();
    return 0;
  }

  // ------------------------------------------------------------------ setup

  private boolean replicated() {
    return replicas > 1;
  }

  /** One data dir holds one kind of installation: H2 (one control plane) or PostgreSQL. */
  private void checkReplicas() {
    if (replicas < 1 || replicas > 9) {
      throw CliException.usage("--replicas must be between 1 and 9, not " + replicas);
    }
    if (replicated() && Files.exists(dir.resolve("controlplane"))) {
      throw CliException.usage(dir + " holds a single control plane on H2 (" + dir.resolve("controlplane")
          + "), whose hosts and deployments are not in PostgreSQL: use another --data-dir for"
          + " --replicas " + replicas + ", or rm -rf " + dir + " to start from scratch");
    }
    if (!replicated() && Files.exists(dir.resolve("postgres"))) {
      throw CliException.usage(dir + " holds replicas on PostgreSQL (" + dir.resolve("postgres")
          + "): run it again with --replicas N (N > 1), use another --data-dir, or rm -rf " + dir);
    }
    if (replicated() && !DevDatabase.available()) {
      throw new CliException("--replicas " + replicas + " needs the local PostgreSQL of the dev-postgres"
          + " module, which only a source checkout carries: run bin/infraveil from the repository");
    }
  }

  private static String replicaName(int i) {
    return "cp" + i;
  }

  private int replicaGrpcPort(int i) {
    return grpcPort + i - 1;
  }

  /** Every replica's gRPC endpoint, comma-separated, as the launcher and ctl take them. */
  private String endpoints() {
    List<String> all = new ArrayList<>();
    for (int i = 1; i <= replicas; i++) {
      all.add("localhost:" + replicaGrpcPort(i));
    }
    return String.join(",", all);
  }

  /**
   * Replica {@code i}: its own name, data dir and ports; the shared database, master key and
   * PKI (the server certificate names localhost, so it is valid for every replica here).
   */
  private List<String> replicaArgs(int i) throws IOException {
    String name = replicaName(i);
    Path config = dir.resolve(name + ".yaml");
    String text = "# replica " + name + " of `infraveil dev --replicas`, written by dev\n"
        + REPLICA_NAME_KEY + ": " + name + "\n"
        + DATABASE_USER_KEY + ": " + database.user() + "\n"
        + MASTER_KEY_FILE_KEY + ": " + masterKeyFile() + "\n";
    if (!Files.exists(config) || !Files.readString(config).equals(text)) {
      Files.writeString(config, text);
    }
    return List.of("controlplane", "--config", config.toString(),
        "--data-dir", dir.resolve(name).toString(), "--certs", dir.resolve("pki").toString(),
        "--grpc-port", Integer.toString(replicaGrpcPort(i)),
        "--http-port", Integer.toString(httpPort + i - 1),
        DATABASE_OPTION, database.jdbcUrl());
  }

  private Path masterKeyFile() {
    return dir.resolve("master.key");
  }

  /**
   * PostgreSQL first, then the master key every replica is given (made once: 32 random bytes,
   * mode 0600; losing it loses every sealed payload and secret).
   */
  private void startDatabase() throws IOException {
    database = DevDatabase.start(dir.resolve("postgres"), postgresPort);
    synchronized (lock) {
      writePids();
    }
    say("PostgreSQL ready: " + database.jdbcUrl() + " (user " + database.user() + ")");
    if (!Files.exists(masterKeyFile())) {
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      AtomicFiles.write(masterKeyFile(), key, PosixFilePermissions.fromString("rw-------"));
      say("created the replicas' master key " + masterKeyFile() + " (back it up with the database)");
    }
  }

  /**
   * The first replica alone (it issues the server certificate when missing and migrates the
   * schema), then the others together.
   */
  private void startControlPlanes() throws IOException, InterruptedException {
    Child first = controlPlanes.get(0);
    first.startAndWatch();
    first.awaitReady();
    List<Child> others = controlPlanes.subList(1, controlPlanes.size());
    for (Child other : others) {
      other.startAndWatch();
    }
    for (Child other : others) {
      other.awaitReady();
    }
    for (int i = 1; i <= controlPlanes.size(); i++) {
      Child child = controlPlanes.get(i - 1);
      say((replicated() ? "replica " + child.name + " ready" : "control plane ready")
          + " on localhost:" + replicaGrpcPort(i) + " (pid " + child.process().pid() + ")");
    }
  }

  /** CA and operator certificate (kept when present) and the ctl context; returns its path. */
  private Path preparePki() throws IOException {
    Path pkiDir = dir.resolve("pki");
    PkiDirectory pki = new PkiDirectory(pkiDir, Clock.systemUTC());
    if (!Files.exists(pki.caCertFile())) {
      pki.init("dev.infraveil");
      say("created a CA in " + pkiDir);
    }
    if (!Files.exists(pki.certFile(OPERATOR)) || !Files.exists(pki.keyFile(OPERATOR))) {
      pki.issue(Identity.Kind.OPERATOR, OPERATOR, List.of(), Duration.ofDays(365));
    }
    Path context = dir.resolve("ctl.yaml");
    String text = """
        # ctl context written by `infraveil dev`
        endpoint: %s
        ca: pki/ca.crt
        cert: pki/%s.crt
        key: pki/%s.key
        """.formatted(endpoints(), OPERATOR, OPERATOR);
    if (!Files.exists(context) || !Files.readString(context).equals(text)) {
      Files.writeString(context, text);
    }
    return context;
  }

  /** A previous dev killed with SIGKILL leaves its children running: stop them first. */
  private void stopLeftovers() throws IOException, InterruptedException {
    Path pids = dir.resolve(PIDS_FILE);
    if (!Files.exists(pids)) {
      return;
    }
    for (String line : Files.readAllLines(pids)) {
      int eq = line.indexOf('=');
      if (eq < 0 || line.startsWith("dev=")) {
        continue;
      }
      long pid = Long.parseLong(line.substring(eq + 1).strip());
      var handle = ProcessHandle.of(pid);
      String command = handle.map(h -> h.info().commandLine().orElse("")).orElse("");
      // The database's command line names its data dir, which may be in the temp dir (root).
      boolean ours = line.startsWith(POSTGRES + "=") ? command.contains("bin/postgres")
          : command.contains(dir.toString());
      if (handle.isPresent() && ours) {
        say("stopping " + line + " left by a previous run");
        handle.get().destroy();
        try {
          handle.get().onExit().get(STOP_GRACE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
          handle.get().destroyForcibly();
        }
      }
    }
  }

  private void awaitHostOnline(Path context) throws InterruptedException {
    long deadline = System.nanoTime() + CHILD_READY.toNanos();
    while (System.nanoTime() < deadline && !isStopping()) {
      String hosts = ctl(context, "-o", "json", "hosts").out();
      if (hosts.contains("\"HOST_CONNECTION_ONLINE\"")) {
        return;
      }
      Thread.sleep(200);
    }
    say("host " + HOST + " is not online yet; see " + dir.resolve("logs/launcher.log"));
  }

  /** DIR/hello: examples/hello with its port set to --hello-port. */
  private Path helloCopy(Path repo) throws IOException {
    Path source = repo.resolve("examples/hello");
    if (!Files.isDirectory(source)) {
      throw new CliException("cannot find examples/hello under " + repo
          + "; set INFRAVEIL_HOME to the repository");
    }
    Path copy = dir.resolve("hello");
    Path fresh = dir.resolve("hello.new");
    deleteTree(fresh);
    try (Stream<Path> files = Files.walk(source)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Path to = fresh.resolve(source.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(to);
        } else {
          Files.copy(file, to, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    Path config = fresh.resolve(PayloadArchive.CONFIG_YAML);
    Files.writeString(config, Files.readString(config).replace("8080", Integer.toString(helloPort)));
    deleteTree(copy);
    Files.move(fresh, copy);
    return copy;
  }

  /** Deploys hello unless the control plane already has this exact payload deployed. */
  private void deployIfChanged(Path context, Path app) throws IOException {
    String sha = packedSha256(app);
    Ctl deployments = ctl(context, "-o", "json", "deployments");
    if (deployments.out().contains("\"" + sha + "\"")) {
      say("hello is already deployed with this payload (" + sha.substring(0, 12) + "); not redeploying");
      return;
    }
    Ctl deployed = ctl(context, "deploy", app.toString(), "--name", DEPLOYMENT, "--hosts", HOST);
    if (deployed.code() != 0) {
      throw new CliException("deploying hello failed:\n" + deployed.err());
    }
    say("deployed hello (" + sha.substring(0, 12) + ") to host " + HOST);
  }

  static String packedSha256(Path app) throws IOException {
    MessageDigest digest = Sha256Hex.newDigest();
    try (OutputStream sink = new DigestOutputStream(OutputStream.nullOutputStream(), digest)) {
      PayloadArchive.pack(app, sink);
    }
    return Sha256Hex.format(digest.digest());
  }

  private void printHowTo(Path context, Path repo) {
    Path pki = dir.resolve("pki");
    String bin = Files.isExecutable(repo.resolve("bin/infraveil"))
        ? repo.resolve("bin/infraveil").toString() : "infraveil";
    String tls = "--cacert " + pki.resolve("ca.crt") + " --cert " + pki.resolve(OPERATOR + ".crt")
        + " --key " + pki.resolve(OPERATOR + ".key");
    String grpcurlTls = "-cacert " + pki.resolve("ca.crt") + " -cert " + pki.resolve(OPERATOR + ".crt")
        + " -key " + pki.resolve(OPERATOR + ".key");
    out.println();
    out.println("INFRAVEIL_CONTEXT=" + context);
    if (replicated()) {
      out.println("gRPC endpoints: " + endpoints() + " (mutual TLS; CA " + pki.resolve("ca.crt")
          + ", operator certificate " + pki.resolve(OPERATOR + ".crt") + ")");
      for (int i = 1; i <= replicas; i++) {
        Process p = controlPlanes.get(i - 1).process();
        out.println("replica " + replicaName(i) + ":    localhost:" + replicaGrpcPort(i) + ", status page https://127.0.0.1:"
            + (httpPort + i - 1) + "/status, pid " + (p == null ? "?" : Long.toString(p.pid()))
            + ", log " + dir.resolve("logs").resolve(replicaName(i) + ".log"));
      }
      out.println("PostgreSQL:     " + database.jdbcUrl() + " (user " + database.user()
          + ", no password, 127.0.0.1 only; data in " + dir.resolve("postgres") + ")");
      out.println();
      out.println("fail-over: `" + bin + " ctl status` shows which replica holds host " + HOST
          + " (its HOSTS column); kill -9 that replica's pid (" + dir.resolve(PIDS_FILE)
          + " lists them) and run `ctl status` again:");
      out.println("  the host is online on another replica within seconds, hello keeps its pid and"
          + " keeps answering, and dev starts the killed replica again after "
          + RESTART_BACKOFF.toSeconds() + " s (as systemd would)");
    } else {
      out.println("gRPC endpoint:  localhost:" + grpcPort + " (mutual TLS; CA " + pki.resolve("ca.crt")
          + ", operator certificate " + pki.resolve(OPERATOR + ".crt") + ")");
      out.println("status page:    https://127.0.0.1:" + httpPort + "/status (certificate from the CA above)");
    }
    out.println();
    out.println("try:");
    out.println("  export INFRAVEIL_CONTEXT=" + context);
    out.println("  " + bin + " ctl status");
    out.println("  " + bin + " ctl hosts -o json");
    out.println("  " + bin + " ctl logs " + DEPLOYMENT);
    out.println("  curl " + tls + " https://127.0.0.1:" + httpPort + "/client/api/operations");
    out.println("  grpcurl " + grpcurlTls + " localhost:" + grpcPort + " list");
    out.println("  grpcurl " + grpcurlTls + " -d '{}' localhost:" + grpcPort
        + " infraveil.v1.OperatorService/GetStatus");
    out.println("  buf curl --protocol grpc " + tls + " -d '{}' https://localhost:" + grpcPort
        + "/infraveil.v1.OperatorService/ListHosts");
    out.println();
    out.flush();
  }

  private void awaitHello() throws InterruptedException {
    say("waiting for hello to answer on http://127.0.0.1:" + helloPort + "/health ...");
    long deadline = System.nanoTime() + HELLO_READY.toNanos();
    while (!isStopping()) {
      if ("ok".equals(httpGet("/health"))) {
        say("hello is answering on http://127.0.0.1:" + helloPort + "/ (" + httpGet("/") + ")");
        say("Ctrl-C stops everything");
        return;
      }
      if (System.nanoTime() > deadline) {
        say("hello is not answering after " + HELLO_READY.toSeconds() + " s; look at `ctl status` and "
            + dir.resolve("host/agents/hello/logs"));
        return;
      }
      Thread.sleep(200);
    }
  }

  private String httpGet(String path) {
    try {
      HttpURLConnection connection = (HttpURLConnection)
          URI.create("http://127.0.0.1:" + helloPort + path).toURL().openConnection();
      connection.setConnectTimeout(500);
      connection.setReadTimeout(2000);
      try (InputStream in = connection.getInputStream()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
      } finally {
        connection.disconnect();
      }
    } catch (IOException e) {
      return null;
    }
  }

  // ------------------------------------------------------------------ children

  /** The arguments of a child, worked out at each start (a launcher's join token changes). */
  @FunctionalInterface
  private interface Args {
    List<String> get() throws IOException;
  }

  /** A child program run as `Main ARGS` in its own session, restarted when it dies. */
  private final class Child {
    private final String name;
    private final Args args;
    /** The launcher runs with the host JVM options and classpath, as in production. */
    private final boolean hostJvm;
    private final String readyText;
    private final Path log;
    /** Guarded by {@link DevCommand#lock}. */
    private Process process;
    private long readyFrom;

    Child(String name, Args args, boolean hostJvm, String readyText) {
      this.name = name;
      this.args = args;
      this.hostJvm = hostJvm;
      this.readyText = readyText;
      this.log = dir.resolve("logs").resolve(name + ".log");
    }

    void startAndWatch() throws IOException {
      Process started = start();
      Thread watcher = new Thread(() -> watch(started), "infraveil-dev-" + name);
      watcher.setDaemon(true);
      watcher.start();
    }

    private Process start() throws IOException {
      List<String> command = new ArrayList<>();
      if (Files.isExecutable(Path.of("/usr/bin/setsid")) || Files.isExecutable(Path.of("/bin/setsid"))) {
        command.add("setsid"); // its own session: Ctrl-C reaches dev, which stops children in order
      }
      command.add(ProcessHandle.current().info().command()
          .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
      String classpath = System.getProperty("java.class.path");
      if (hostJvm) {
        // As in production: the host JVM options and no control-plane libraries.
        command.addAll(io.infraveil.host.jvm.HostJvmOptions.launcher());
        classpath = HostClasspath.of(classpath);
      }
      command.addAll(List.of("-cp", classpath, Main.class.getName()));
      command.addAll(args.get());
      readyFrom = Files.exists(log) ? Files.size(log) : 0;
      Process p = new ProcessBuilder(command)
          .directory(dir.toFile())
          .redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .start();
      synchronized (lock) {
        process = p;
        writePids();
      }
      return p;
    }

    private void watch(Process current) {
      Process p = current;
      while (true) {
        int code;
        try {
          code = p.waitFor();
        } catch (InterruptedException e) {
          return;
        }
        if (isStopping()) {
          return;
        }
        say(name + " (pid " + p.pid() + ") exited with code " + code + "; restarting in "
            + RESTART_BACKOFF.toSeconds() + " s (log: " + log + ")");
        try {
          Thread.sleep(RESTART_BACKOFF.toMillis());
          synchronized (lock) {
            if (stopping) {
              return;
            }
          }
          p = start();
          say(name + " restarted (pid " + p.pid() + ")");
        } catch (InterruptedException e) {
          return;
        } catch (IOException e) {
          say("cannot restart " + name + ": " + e.getMessage());
          return;
        }
      }
    }

    void awaitReady() throws InterruptedException, IOException {
      long deadline = System.nanoTime() + CHILD_READY.toNanos();
      while (System.nanoTime() < deadline && !isStopping()) {
        if (Files.exists(log) && Files.size(log) > readyFrom) {
          String text = Files.readString(log, StandardCharsets.UTF_8);
          if (text.length() > readyFrom && text.substring((int) Math.min(readyFrom, text.length()))
              .contains(readyText)) {
            return;
          }
        }
        Thread.sleep(100);
      }
      if (!isStopping()) {
        throw new CliException(name + " is not ready after " + CHILD_READY.toSeconds() + " s; see " + log);
      }
    }

    Process process() {
      synchronized (lock) {
        return process;
      }
    }

    void stop() {
      Process p = process();
      if (p == null) {
        return;
      }
      p.destroy();
      try {
        if (!p.waitFor(STOP_GRACE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
          say(name + " did not stop within " + STOP_GRACE.toSeconds() + " s; killing it");
          p.destroyForcibly();
          p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
      }
    }
  }

  /** Launcher arguments: with a fresh join token until this host has enrolled. */
  private List<String> launcherArgs() throws IOException {
    Path hostDir = dir.resolve("host");
    List<String> args = new ArrayList<>(List.of("launcher", "--data-dir", hostDir.toString(),
        "--control-plane", endpoints(), "--ca", dir.resolve("pki/ca.crt").toString(),
        "--stop-agents-on-exit"));
    if (!Files.exists(hostDir.resolve("identity/host.crt"))
        || !Files.exists(hostDir.resolve("identity/host.json"))) {
      // --replace: the only machine that can hold this name is this one, which lost (or never
      // kept) its identity, e.g. killed between enrolling and writing it.
      Ctl token = ctl(dir.resolve("ctl.yaml"), "-o", "json", "tokens", "create", HOST, "--replace");
      Matcher m = Pattern.compile("\"joinToken\"\\s*:\\s*\"([^\"]+)\"").matcher(token.out());
      if (token.code() != 0 || !m.find()) {
        throw new IOException("cannot create a join token for host " + HOST + ": " + token.err());
      }
      args.addAll(List.of("--join-token", m.group(1), "--name", HOST));
    }
    return args;
  }

  /** dev.pids: who is running now, for people and tests. Caller holds {@link #lock}. */
  private void writePids() {
    StringBuilder text = new StringBuilder("dev=" + ProcessHandle.current().pid() + "\n");
    for (Child child : controlPlanes) {
      if (child.process != null) {
        text.append(child.name).append('=').append(child.process.pid()).append('\n');
      }
    }
    if (launcher != null && launcher.process != null) {
      text.append("launcher=").append(launcher.process.pid()).append('\n');
    }
    if (database != null) {
      // Last: a later run stops leftovers in this order, the database after its clients.
      database.pid().ifPresent(pid -> text.append(POSTGRES).append('=').append(pid).append('\n'));
    }
    try {
      Path tmp = dir.resolve(PIDS_FILE + ".tmp");
      Files.writeString(tmp, text);
      Files.move(tmp, dir.resolve(PIDS_FILE), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      say("cannot write " + PIDS_FILE + ": " + e.getMessage());
    }
  }

  // ------------------------------------------------------------------ stopping

  private boolean isStopping() {
    synchronized (lock) {
      return stopping;
    }
  }

  /**
   * The launcher first (it stops its agents, which stop their services), then the control
   * plane, then anything still running with a working directory or command line in DIR.
   */
  private void stopAll() {
    synchronized (lock) {
      if (stopping) {
        return;
      }
      stopping = true;
    }
    say("stopping: launcher (with its agents and services), then the control plane"
        + (database != null ? " replicas, then PostgreSQL" : ""));
    if (launcher != null) {
      launcher.stop();
    }
    List<Child> reversed = new ArrayList<>(controlPlanes);
    java.util.Collections.reverse(reversed);
    for (Child child : reversed) {
      child.stop();
    }
    if (database != null) {
      database.close();
    }
    List<ProcessHandle> left = processesUnder(dir);
    for (ProcessHandle handle : left) {
      say("killing leftover pid " + handle.pid() + ": " + handle.info().commandLine().orElse("?"));
      handle.destroyForcibly();
    }
    for (ProcessHandle handle : left) {
      try {
        handle.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        // reported by the next run's leftover check
      }
    }
    try {
      Files.deleteIfExists(dir.resolve(PIDS_FILE));
    } catch (IOException e) {
      // next run ignores dead pids
    }
    say("stopped");
  }

  /**
   * Live processes dev is responsible for (Linux): a command line naming {@code root} (the
   * control plane, the launcher, agents) or a working directory under {@code root/host/agents}
   * (services and their checks, which run in their own sessions). A shell that merely sits in
   * {@code root} is left alone.
   */
  static List<ProcessHandle> processesUnder(Path root) {
    List<ProcessHandle> found = new ArrayList<>();
    Path proc = Path.of("/proc");
    if (!Files.isDirectory(proc)) {
      return found;
    }
    String rootText = root.toString();
    String agentsText = root.resolve("host").resolve("agents").toString();
    long self = ProcessHandle.current().pid();
    ProcessHandle.allProcesses().filter(p -> p.pid() != self && p.isAlive()).forEach(p -> {
      String cwd = "";
      try {
        cwd = Files.readSymbolicLink(proc.resolve(Long.toString(p.pid())).resolve("cwd")).toString();
      } catch (IOException | RuntimeException e) {
        // gone, or not ours
      }
      String cmd = p.info().commandLine().orElse("");
      if (cwd.startsWith(agentsText + "/") || cmd.contains(rootText)) {
        found.add(p);
      }
    });
    return found;
  }

  // ------------------------------------------------------------------ helpers

  /** The output of one ctl command run in this JVM. */
  record Ctl(int code, String out, String err) {}

  private Ctl ctl(Path context, String... args) {
    List<String> full = new ArrayList<>(List.of("ctl", "--context", context.toString()));
    full.addAll(List.of(args));
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(stdout, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(stderr, true, StandardCharsets.UTF_8)) {
      code = new Main(Map.of()).execute(full.toArray(String[]::new), o, e);
    }
    return new Ctl(code, stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
  }

  private void say(String line) {
    synchronized (out) {
      out.println("dev: " + line);
      out.flush();
    }
  }

  /**
   * The repository: INFRAVEIL_HOME, else three levels above the cli jar
   * ({@code cli/target/infraveil-cli-*.jar} or {@code cli/target/classes}), else upwards from
   * the working directory.
   */
  private Path repoRoot() {
    String home = main.env().get("INFRAVEIL_HOME");
    if (home != null && !home.isBlank()) {
      return Path.of(home).toAbsolutePath().normalize();
    }
    try {
      Path code = Path.of(DevCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path candidate = code.getParent() == null ? null : code.getParent().getParent();
      candidate = candidate == null ? null : candidate.getParent();
      if (candidate != null && Files.isDirectory(candidate.resolve("examples/hello"))) {
        return candidate;
      }
    } catch (Exception e) {
      // fall through
    }
    Path cwd = Path.of("").toAbsolutePath();
    for (Path p = cwd; p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("examples/hello"))) {
        return p;
      }
    }
    return cwd;
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
