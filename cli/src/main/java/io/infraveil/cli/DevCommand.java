package io.infraveil.cli;

import io.infraveil.certs.Identity;
import io.infraveil.certs.PkiDirectory;
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
import java.security.DigestOutputStream;
import java.security.MessageDigest;
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
 */
@Command(name = "dev", mixinStandardHelpOptions = true,
    description = "Run the whole system on this machine: CA, control plane, a launcher for "
        + "host `local`, and examples/hello deployed. Ctrl-C stops all of it.")
final class DevCommand implements Callable<Integer> {

  static final String HOST = "local";
  static final String OPERATOR = "dev";
  static final String DEPLOYMENT = "hello";
  static final String PIDS_FILE = "dev.pids";
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

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  private Path dir;
  private PrintWriter out;
  private final Object lock = new Object();
  /** Guarded by {@link #lock}. */
  private boolean stopping;
  private Child controlPlane;
  private Child launcher;

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    dir = Files.createDirectories(dataDir).toRealPath();
    Files.createDirectories(dir.resolve("logs"));
    Path repo = repoRoot();
    Path context = preparePki();
    stopLeftovers();

    controlPlane = new Child("controlplane", List.of("controlplane",
        "--data-dir", dir.resolve("controlplane").toString(), "--certs", dir.resolve("pki").toString(),
        "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort)),
        "controlplane ready");
    launcher = new Child("launcher", null, "launcher_start");
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      stopAll();
      stopped.countDown();
    }, "infraveil-dev-stop");
    Runtime.getRuntime().addShutdownHook(hook);

    say("data dir " + dir + " (logs in " + dir.resolve("logs") + ")");
    controlPlane.startAndWatch();
    controlPlane.awaitReady();
    say("control plane ready on localhost:" + grpcPort + " (pid " + controlPlane.process().pid() + ")");
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
        endpoint: localhost:%d
        ca: pki/ca.crt
        cert: pki/%s.crt
        key: pki/%s.key
        """.formatted(grpcPort, OPERATOR, OPERATOR);
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
      if (handle.isPresent() && handle.get().info().commandLine().orElse("").contains(dir.toString())) {
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
    out.println("gRPC endpoint:  localhost:" + grpcPort + " (mutual TLS; CA " + pki.resolve("ca.crt")
        + ", operator certificate " + pki.resolve(OPERATOR + ".crt") + ")");
    out.println("status page:    https://127.0.0.1:" + httpPort + "/status (certificate from the CA above)");
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

  /** A child program run as `Main ARGS` in its own session, restarted when it dies. */
  private final class Child {
    private final String name;
    private final List<String> fixedArgs;
    private final String readyText;
    private final Path log;
    /** Guarded by {@link DevCommand#lock}. */
    private Process process;
    private long readyFrom;

    Child(String name, List<String> args, String readyText) {
      this.name = name;
      this.fixedArgs = args;
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
      if (fixedArgs == null) {
        command.addAll(io.infraveil.host.jvm.HostJvmOptions.launcher()); // as in production
      }
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
      command.addAll(fixedArgs != null ? fixedArgs : launcherArgs());
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
        "--control-plane", "localhost:" + grpcPort, "--ca", dir.resolve("pki/ca.crt").toString(),
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
    if (controlPlane != null && controlPlane.process != null) {
      text.append("controlplane=").append(controlPlane.process.pid()).append('\n');
    }
    if (launcher != null && launcher.process != null) {
      text.append("launcher=").append(launcher.process.pid()).append('\n');
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
    say("stopping: launcher (with its agents and services), then the control plane");
    if (launcher != null) {
      launcher.stop();
    }
    if (controlPlane != null) {
      controlPlane.stop();
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
