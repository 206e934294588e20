package io.infraveil.bench.storm;

import io.infraveil.certs.Identity;
import io.infraveil.certs.Pem;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.certs.TlsProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The reconnect storm across processes: a control plane started from the CLI in its own
 * process, and the hosts split over load-generator processes ({@link StormHosts}), each with
 * its file limit raised. The hosts' own clocks say when each got its first answer and when the
 * control plane accepted its Sync stream (the moment it counts the host online); the control
 * plane's status page confirms the count, its /metrics the handshakes resumed and queued, and
 * /proc its CPU time.
 */
public final class StormFleet {

  /** One socket per host: 5,000 stay well under the 20,000 files one process may hold here. */
  public static final int DEFAULT_HOSTS_PER_PROCESS = 5000;

  /** One phase: every host connecting at once (first connections, or after the restart). */
  public record Phase(int online, long onlineMillis, long p50Millis, long p99Millis, long maxMillis,
      long failedAttempts, long cpuMillis, long hostsCpuMillis, int countedOnline) {
    String describe(int hosts) {
      return String.format(Locale.ROOT, "online=%d of %d in %dms (%.0f hosts/s; the control plane counts %d online)"
              + " first-answer p50=%dms p99=%dms max=%dms failed-attempts=%d control-plane CPU %dms"
              + " (%.2f ms per connect), host processes' CPU %dms",
          online, hosts, onlineMillis, hosts * 1000.0 / Math.max(1, onlineMillis), countedOnline, p50Millis,
          p99Millis, maxMillis, failedAttempts, cpuMillis, cpuMillis / (double) hosts, hostsCpuMillis);
    }
  }

  /** What one storm measured. */
  public record Result(int hosts, int processes, long enrollMillis, Phase first, long restartMillis,
      Phase restart, long resumedHandshakes, long queuedHandshakes, long peakQueuedHandshakes, String tlsProvider,
      String loadBefore, String loadAfter, long heapBeforeBytes, long heapOnlineBytes, String histogram) {
    /** Live heap the control plane holds per connected host (enrolled hosts' rows are in both figures). */
    public double heapPerHostKiB() {
      return (heapOnlineBytes - heapBeforeBytes) / 1024.0 / hosts;
    }

    public String describe() {
      return String.format(Locale.ROOT, "reconnect storm: hosts=%d in %d client process(es), control plane from the CLI"
              + " in its own process (%s), load average %s → %s%n"
              + "enroll: %dms (%.0f hosts/s)%n"
              + "first connections: %s%n"
              + "after a restart (control plane up in %dms): %s resumed-handshakes=%d queued-handshakes=%d"
              + " (peak %d waiting)%n"
              + "control plane live heap: %.1f MiB with every host enrolled and none connected, %.1f MiB with all"
              + " %d connected: %.1f KiB per connected host (goal <= 32 KiB); top of its class histogram then:%n%s",
          hosts, processes, tlsProvider, loadBefore, loadAfter, enrollMillis,
          hosts * 1000.0 / Math.max(1, enrollMillis), first.describe(hosts), restartMillis, restart.describe(hosts),
          resumedHandshakes, queuedHandshakes, peakQueuedHandshakes, heapBeforeBytes / 1048576.0,
          heapOnlineBytes / 1048576.0, hosts, heapPerHostKiB(), histogram);
    }
  }

  private StormFleet() {}

  public static Result run(Path dir, int count, int perProcess, Duration timeout) throws Exception {
    String loadBefore = Jvm.loadAverage();
    PkiDirectory pki = new PkiDirectory(dir.resolve("pki"), Clock.systemUTC());
    pki.init("bench.infraveil");
    var operator = pki.issue(Identity.Kind.OPERATOR, "storm", List.of(), Duration.ofDays(1));
    int grpcPort = freePort();
    int httpPort = freePort();
    Path data = dir.resolve("data");
    Path logs = Files.createDirectories(dir.resolve("logs"));
    HttpClient http = httpsClient(pki.caCertFile());
    List<Hosts> clients = new ArrayList<>();
    ControlPlaneProcess controlPlane = ControlPlaneProcess.start(data, pki.dir(), grpcPort, httpPort,
        logs.resolve("controlplane-1.log"));
    try {
      for (int first = 0, i = 1; first < count; first += perProcess, i++) {
        clients.add(Hosts.start(grpcPort, pki.caCertFile(), operator.certFile(), operator.keyFile(), first,
            Math.min(perProcess, count - first), timeout, logs.resolve("hosts-" + i + ".log")));
      }
      long enrollMillis = 0;
      for (Hosts client : clients) {
        enrollMillis = Math.max(enrollMillis, Long.parseLong(client.await("enrolled", timeout.multipliedBy(4))[3]));
      }

      long heapBefore = controlPlane.liveHeapBytes(0);
      Phase first = phase("connect", clients, controlPlane, http, httpPort, count, timeout);
      long heapOnline = controlPlane.liveHeapBytes(15);
      String histogram = controlPlane.lastHistogram();

      // The control plane restarts (SIGTERM, as systemd stops it); every host comes back at once.
      long restartStart = System.nanoTime();
      controlPlane.close();
      controlPlane = ControlPlaneProcess.start(data, pki.dir(), grpcPort, httpPort, logs.resolve("controlplane-2.log"));
      long restartMillis = (System.nanoTime() - restartStart) / 1_000_000;
      Phase restart = phase("reconnect", clients, controlPlane, http, httpPort, count, timeout);
      String metrics = get(http, httpPort, "/metrics");
      return new Result(count, clients.size(), enrollMillis, first, restartMillis, restart,
          metric(metrics, "infraveil_tls_handshakes_resumed_total"),
          metric(metrics, "infraveil_tls_handshakes_queued_total"),
          metric(metrics, "infraveil_tls_handshakes_waiting_peak"),
          TlsProvider.chosen().name().toLowerCase(Locale.ROOT), loadBefore, Jvm.loadAverage(), heapBefore,
          heapOnline, histogram);
    } finally {
      for (Hosts client : clients) {
        client.close();
      }
      controlPlane.close();
    }
  }

  /** Tells every client to connect all its hosts at once and gathers what they saw. */
  private static Phase phase(String command, List<Hosts> clients, ControlPlaneProcess controlPlane, HttpClient http,
      int httpPort, int count, Duration timeout) throws Exception {
    long cpuBefore = controlPlane.cpuMillis();
    long hostsCpuBefore = hostsCpuMillis(clients);
    for (Hosts client : clients) {
      client.send(command);
    }
    long failed = 0;
    List<Long> answers = new ArrayList<>(count);
    List<Long> online = new ArrayList<>(count);
    for (Hosts client : clients) {
      String[] done = client.await("done", timeout.plusMinutes(1));
      failed += Long.parseLong(field(done, "failed"));
      parse(field(done, "answers"), answers);
      parse(field(done, "online"), online);
    }
    long cpuMillis = controlPlane.cpuMillis() - cpuBefore;
    long hostsCpu = hostsCpuMillis(clients) - hostsCpuBefore;
    int countedOnline = awaitCountedOnline(http, httpPort, count, Duration.ofSeconds(30));
    long[] answered = answers.stream().filter(ms -> ms >= 0).mapToLong(Long::longValue).sorted().toArray();
    long[] accepted = online.stream().filter(ms -> ms >= 0).mapToLong(Long::longValue).sorted().toArray();
    return new Phase(accepted.length, accepted.length == 0 ? -1 : accepted[accepted.length - 1],
        percentile(answered, 50), percentile(answered, 99),
        answered.length == 0 ? -1 : answered[answered.length - 1], failed, cpuMillis, hostsCpu, countedOnline);
  }

  private static long hostsCpuMillis(List<Hosts> clients) throws IOException {
    long total = 0;
    for (Hosts client : clients) {
      total += Jvm.cpuMillis(client.process.pid());
    }
    return total;
  }

  /** The control plane's own count of online hosts (its status page), once it reaches {@code count} or time is up. */
  private static int awaitCountedOnline(HttpClient http, int httpPort, int count, Duration patience) throws Exception {
    long deadline = System.nanoTime() + patience.toNanos();
    Pattern online = Pattern.compile("\"online\"\\s*:\\s*(\\d+)");
    int counted = 0;
    do {
      Matcher m = online.matcher(get(http, httpPort, "/status.json"));
      counted = m.find() ? Integer.parseInt(m.group(1)) : 0;
      if (counted >= count) {
        break;
      }
      Thread.sleep(500);
    } while (System.nanoTime() < deadline);
    return counted;
  }

  private static String field(String[] words, String name) {
    return Arrays.stream(words).filter(w -> w.startsWith(name + "=")).findFirst()
        .map(w -> w.substring(name.length() + 1))
        .orElseThrow(() -> new IllegalStateException("no " + name + "= in " + String.join(" ", words)));
  }

  private static void parse(String csv, List<Long> into) {
    for (String value : csv.split(",")) {
      if (!value.isEmpty()) {
        into.add(Long.parseLong(value));
      }
    }
  }

  private static long metric(String exposition, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? (\\S+)$").matcher(exposition);
    return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
  }

  private static long percentile(long[] sorted, int p) {
    if (sorted.length == 0) {
      return -1;
    }
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private static String get(HttpClient http, int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + path))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static HttpClient httpsClient(Path caFile) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry("ca", Pem.certificate(Files.readString(caFile)));
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, factory.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** One load-generator process and the lines it answers with. */
  private static final class Hosts implements AutoCloseable {
    private final Process process;
    private final Writer commands;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    private final Path log;

    private Hosts(Process process, Path log) {
      this.process = process;
      this.log = log;
      this.commands = process.outputWriter(StandardCharsets.UTF_8);
      Thread reader = new Thread(this::read, "storm-hosts-" + process.pid());
      reader.setDaemon(true);
      reader.start();
    }

    static Hosts start(int port, Path ca, Path operatorCert, Path operatorKey, int first, int count,
        Duration timeout, Path log) throws IOException {
      List<String> java = new ArrayList<>(List.of(Jvm.java()));
      java.addAll(Jvm.forwardedProperties());
      java.addAll(List.of("-cp", System.getProperty("java.class.path"), StormHosts.class.getName(),
          Integer.toString(port), ca.toString(), operatorCert.toString(), operatorKey.toString(),
          Integer.toString(first), Integer.toString(count), Long.toString(timeout.toSeconds())));
      return new Hosts(Jvm.withRaisedFileLimit(java).redirectError(log.toFile()).start(), log);
    }

    private void read() {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        String line;
        while ((line = out.readLine()) != null) {
          if (line.startsWith("storm ")) {
            answers.add(line);
          }
        }
      } catch (IOException ended) {
        // The process ended; await() says so.
      }
    }

    void send(String command) throws IOException {
      commands.write(command + "\n");
      commands.flush();
    }

    /** The next answer line, split in words; it must start with {@code kind}. */
    String[] await(String kind, Duration patience) throws Exception {
      long deadline = System.nanoTime() + patience.toNanos();
      while (System.nanoTime() < deadline) {
        String line = answers.poll(1, TimeUnit.SECONDS);
        if (line != null) {
          String[] words = line.split(" ");
          if (!words[1].equals(kind)) {
            throw new IllegalStateException("a hosts process answered '" + words[1] + "' where '" + kind
                + "' was due; its log is " + log);
          }
          return words;
        }
        if (!process.isAlive() && answers.isEmpty()) {
          throw new IllegalStateException("a hosts process ended (exit " + process.exitValue() + ") before '"
              + kind + "'; its log is " + log);
        }
      }
      throw new IllegalStateException("no '" + kind + "' from a hosts process within " + patience + "; its log is "
          + log);
    }

    @Override
    public void close() throws InterruptedException {
      try {
        send("quit");
      } catch (IOException gone) {
        // Already ended.
      }
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }
  }
}
