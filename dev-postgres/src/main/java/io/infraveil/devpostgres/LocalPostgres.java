package io.infraveil.devpostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A PostgreSQL server on 127.0.0.1 for tests and for {@code infraveil dev --replicas}: real
 * binaries (from {@link PostgresBinaries}), a data dir of its own, trust authentication on
 * loopback only, no Unix socket. PostgreSQL refuses to run as root, so when this JVM is root
 * the server runs as {@code nobody} (via {@code setpriv}) and its data dir must be reachable by
 * that user ({@link DataDirs}).
 *
 * <p>{@code fsync} is off: this database serves tests and local trials, and a commit still
 * survives a kill -9 of the server (the page cache keeps it); only a machine crash can lose it.
 */
public final class LocalPostgres implements AutoCloseable {

  /** Connection details of one database on this server. */
  public record Database(String jdbcUrl, String user, String password, String name) {
    public Database {
      Objects.requireNonNull(jdbcUrl, "jdbcUrl");
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(password, "password");
      Objects.requireNonNull(name, "name");
    }

    /** A new connection; the caller closes it. */
    public Connection connect() throws SQLException {
      return DriverManager.getConnection(jdbcUrl, user, password);
    }
  }

  static final String SUPERUSER = "postgres";
  private static final Duration READY_WITHIN = Duration.ofSeconds(60);
  private static final Duration STOP_WITHIN = Duration.ofSeconds(30);
  private static LocalPostgres shared;

  private final Path binaries;
  private final Path dataDir;
  private final Path log;
  private final int port;
  private final AtomicInteger databases = new AtomicInteger();
  private Process postmaster;

  private LocalPostgres(Path binaries, Path dataDir, Path log, int port) {
    this.binaries = binaries;
    this.dataDir = dataDir;
    this.log = log;
    this.port = port;
  }

  /**
   * One server for this JVM, started at first use and stopped when the JVM exits. Tests take a
   * fresh database from it with {@link #newDatabase()}.
   */
  public static synchronized LocalPostgres shared() {
    if (shared == null) {
      try {
        Path dir = Files.createTempDirectory("infraveil-postgres-");
        LocalPostgres server = start(dir);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          server.close();
          deleteTree(dir);
          deleteTree(server.dataDir().getParent());
        }, "local-postgres-stop"));
        shared = server;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot make a directory for the local PostgreSQL", e);
      }
    }
    return shared;
  }

  /**
   * Starts a server whose files live in {@code dir} (data dir and log; made by initdb on first
   * use, reused after). The port is chosen now and kept across {@link #stop()} and
   * {@link #start()}.
   */
  public static LocalPostgres start(Path dir) {
    return start(dir, 0);
  }

  /** As {@link #start(Path)}, on a given port (0: any free port). */
  public static LocalPostgres start(Path dir, int port) {
    try {
      Files.createDirectories(dir);
      Path binaries = PostgresBinaries.extracted();
      Path dataDir = DataDirs.forServer(dir);
      LocalPostgres server = new LocalPostgres(binaries, dataDir, dir.resolve("postgres.log"),
          port == 0 ? freePort() : port);
      if (!Files.exists(dataDir.resolve("PG_VERSION"))) {
        server.initdb();
      }
      server.start();
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start a local PostgreSQL in " + dir, e);
    }
  }

  public int port() {
    return port;
  }

  /** The data dir (under {@code dir}, or under the temp dir when running as root needs it). */
  public Path dataDir() {
    return dataDir;
  }

  /** A new, empty database, owned by the superuser. */
  public Database newDatabase() {
    return database("t" + ProcessHandle.current().pid() + "_" + databases.incrementAndGet());
  }

  /** The database {@code name}, created when it does not exist yet. */
  public Database database(String name) {
    if (!name.matches("[a-z][a-z0-9_]{0,62}")) {
      throw new IllegalArgumentException("database name \"" + name
          + "\" must be lower-case letters, digits and _ , starting with a letter");
    }
    try (Connection c = DriverManager.getConnection(url("postgres"), SUPERUSER, "");
        Statement s = c.createStatement()) {
      var exists = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'");
      if (!exists.next()) {
        s.execute("CREATE DATABASE " + name);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name + " on the local"
          + " PostgreSQL at 127.0.0.1:" + port + ": " + e.getMessage(), e);
    }
    return new Database(url(name), SUPERUSER, "", name);
  }

  /** The JDBC URL of database {@code name} on this server. */
  public String url(String name) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + name;
  }

  public synchronized boolean isRunning() {
    return postmaster != null && postmaster.isAlive();
  }

  /** Starts the server (again) on its port and waits until it accepts connections. */
  public synchronized void start() {
    if (isRunning()) {
      return;
    }
    List<String> command = asServerUser(binaries.resolve("bin/postgres").toString(),
        "-D", dataDir.toString(),
        "-p", Integer.toString(port),
        "-c", "listen_addresses=127.0.0.1",
        "-c", "unix_socket_directories=",
        "-c", "max_connections=300",
        "-c", "shared_buffers=32MB",
        "-c", "fsync=off",
        "-c", "full_page_writes=off");
    try {
      postmaster = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command.get(0), e);
    }
    awaitReady();
  }

  /** Fast shutdown (SIGINT): open sessions are ended, committed work is kept. */
  public synchronized void stop() {
    if (!isRunning()) {
      return;
    }
    signal("INT");
    try {
      if (!postmaster.waitFor(STOP_WITHIN.toSeconds(), TimeUnit.SECONDS)) {
        kill();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill();
    }
  }

  /** SIGKILL to the server and every backend: a crash, for failure tests. */
  public synchronized void kill() {
    if (postmaster == null) {
      return;
    }
    List<ProcessHandle> backends = postmaster.descendants().toList();
    postmaster.destroyForcibly();
    backends.forEach(ProcessHandle::destroyForcibly);
    try {
      postmaster.waitFor(STOP_WITHIN.toSeconds(), TimeUnit.SECONDS);
      for (ProcessHandle backend : backends) {
        backend.onExit().get(STOP_WITHIN.toSeconds(), TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      throw new IllegalStateException("PostgreSQL backends did not die after SIGKILL", e);
    }
  }

  @Override
  public void close() {
    stop();
  }

  private void initdb() throws IOException {
    run(asServerUser(binaries.resolve("bin/initdb").toString(),
        "-D", dataDir.toString(), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
        "--locale=C", "--no-sync"));
  }

  private void awaitReady() {
    Instant deadline = Instant.now().plus(READY_WITHIN);
    SQLException last = null;
    while (Instant.now().isBefore(deadline)) {
      if (!postmaster.isAlive()) {
        throw new IllegalStateException("PostgreSQL exited with " + postmaster.exitValue()
            + " while starting on port " + port + "; its log: " + log + "\n" + logTail());
      }
      try (Connection c = DriverManager.getConnection(url("postgres"), SUPERUSER, "")) {
        return;
      } catch (SQLException e) {
        last = e;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while PostgreSQL was starting", e);
      }
    }
    throw new IllegalStateException("PostgreSQL did not accept connections on 127.0.0.1:" + port
        + " within " + READY_WITHIN.toSeconds() + " s; its log: " + log + "\n" + logTail(), last);
  }

  private void signal(String name) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(postmaster.pid()))
          .redirectErrorStream(true).start();
      kill.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot signal PostgreSQL", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run(List<String> command) throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    try {
      if (!process.waitFor(2, TimeUnit.MINUTES) || process.exitValue() != 0) {
        process.destroyForcibly();
        throw new IOException(String.join(" ", command) + " failed; its output: " + log + "\n"
            + logTail());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", command), e);
    }
  }

  private static List<String> asServerUser(String... command) {
    List<String> full = new ArrayList<>();
    if (DataDirs.runningAsRoot()) {
      full.addAll(List.of("setpriv", "--reuid=" + DataDirs.NOBODY, "--regid=" + DataDirs.NOBODY,
          "--clear-groups", "--"));
    }
    full.addAll(List.of(command));
    return full;
  }

  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(log unreadable: " + e.getMessage() + ")";
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // Best effort at JVM exit: a leftover temp dir is harmless.
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
