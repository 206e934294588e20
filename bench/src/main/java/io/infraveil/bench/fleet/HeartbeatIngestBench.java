package io.infraveil.bench.fleet;

import com.google.protobuf.Timestamp;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.controlplane.ControlPlane;
import io.infraveil.controlplane.enroll.JoinTokens;
import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.proto.v1.HostConnection;
import io.infraveil.proto.v1.HostReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Many hosts held by one control plane: enrolls N hosts, opens their mutual-TLS Sync streams to
 * an in-process control plane, then has them report, first at the launchers' interval (every
 * host every 10 s), then at a given aggregate rate. Prints the reports/s the control plane
 * handled, the latency from a report leaving a host until the control plane has handled it
 * (its report listeners, incident rules included, have returned: the Sync stream has no
 * per-report answer), the live heap per connected host and the top of the heap's class
 * histogram with N hosts connected. Control plane and hosts share one JVM, so the heap per
 * host holds both ends of each connection (the histogram tells them apart). Asserts nothing.
 */
public final class HeartbeatIngestBench {

  /** What one report phase measured. */
  public record Phase(String name, double targetPerSecond, long sent, long handled, double handledPerSecond,
      long p50Micros, long p99Micros, long maxMicros) {
    String describe() {
      return String.format("%s: target %.0f reports/s, sent=%d handled=%d (%.0f reports/s), "
              + "report handled p50=%.1fms p99=%.1fms max=%.1fms", name, targetPerSecond, sent, handled,
          handledPerSecond, p50Micros / 1000.0, p99Micros / 1000.0, maxMicros / 1000.0);
    }
  }

  /** What one run measured. */
  public record Result(int hosts, int online, long enrollMillis, long connectMillis, long heapBefore,
      long heapWithHosts, String histogram, List<Phase> phases) {
    public long heapPerHost() {
      return (heapWithHosts - heapBefore) / Math.max(1, hosts);
    }

    public String describe() {
      StringBuilder out = new StringBuilder(String.format("heartbeat ingest: hosts=%d online=%d enroll=%dms "
              + "connect=%dms live heap before=%.1fMiB with hosts=%.1fMiB per host=%.1fKiB (both ends of each "
              + "connection)%n", hosts, online, enrollMillis, connectMillis, heapBefore / 1048576.0,
          heapWithHosts / 1048576.0, heapPerHost() / 1024.0));
      phases.forEach(p -> out.append(p.describe()).append('\n'));
      return out.append("class histogram with ").append(hosts).append(" hosts connected:\n").append(histogram)
          .toString();
    }
  }

  private HeartbeatIngestBench() {}

  /** Arguments: hosts, aggregate reports/s of the second phase, seconds per phase. */
  public static void main(String[] args) throws Exception {
    int hosts = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    Path dir = Files.createTempDirectory("infraveil-ingest");
    System.out.println(run(dir, hosts, rate, Duration.ofSeconds(seconds)).describe());
  }

  public static Result run(Path dir, int count, int ratePerSecond, Duration phase) throws Exception {
    PkiDirectory pki = new PkiDirectory(dir.resolve("pki"), Clock.systemUTC());
    pki.init("bench.infraveil");
    List<X509Certificate> cas = List.of(pki.ca().certificate());
    ControlPlane controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0,
        Map.of("infraveil.http-port", 0));
    Latencies latencies = new Latencies();
    controlPlane.bean(ReportIngest.class).addListener(latencies);
    long enrollStart = System.nanoTime();
    try (SimulatedHosts hosts = SimulatedHosts.enroll(controlPlane.grpcPort(), cas,
        controlPlane.bean(JoinTokens.class), count, 4)) {
      long enrollMillis = (System.nanoTime() - enrollStart) / 1_000_000;
      System.out.printf("heartbeat ingest: %d hosts enrolled in %d ms%n", count, enrollMillis);
      long heapBefore = HeapFigures.liveBytes();
      long connectStart = System.nanoTime();
      // Connected hosts report every 10 s, as launchers do, so none turns offline while others connect.
      ScheduledExecutorService launcherInterval = Executors.newSingleThreadScheduledExecutor();
      launcherInterval.scheduleAtFixedRate(() -> hosts.hosts.forEach(SimulatedHosts.Host::sendIfOpen),
          10, 10, TimeUnit.SECONDS);
      int online;
      long connectMillis;
      long heapWithHosts;
      String histogram;
      try {
        hosts.connectAll(32);
        online = awaitOnline(controlPlane.bean(HostLiveness.class), hosts, Duration.ofMinutes(10));
        connectMillis = (System.nanoTime() - connectStart) / 1_000_000;
        System.out.printf("heartbeat ingest: %d of %d hosts online after %d ms%n", online, count, connectMillis);
        heapWithHosts = HeapFigures.liveBytes();
        histogram = HeapFigures.classHistogram(25);
      } finally {
        launcherInterval.shutdownNow();
      }
      Phase interval = report(hosts, latencies, "every host every 10 s", count / 10.0, phase);
      System.out.println(interval.describe());
      Phase target = report(hosts, latencies, "aggregate rate", ratePerSecond, phase);
      return new Result(count, online, enrollMillis, connectMillis, heapBefore, heapWithHosts, histogram,
          List.of(interval, target));
    } finally {
      controlPlane.close();
    }
  }

  /** Sends reports round-robin over the hosts at {@code perSecond}, in 10 ms slices, for {@code length}. */
  private static Phase report(SimulatedHosts hosts, Latencies latencies, String name, double perSecond,
      Duration length) throws InterruptedException {
    latencies.reset((int) Math.min(50_000_000, perSecond * length.toSeconds() * 2 + 1000));
    ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor();
    AtomicInteger next = new AtomicInteger();
    long[] sent = new long[1];
    long start = System.nanoTime();
    sender.scheduleAtFixedRate(() -> {
      double elapsed = (System.nanoTime() - start) / 1e9;
      long due = (long) (elapsed * perSecond);
      while (sent[0] < due) {
        SimulatedHosts.Host host = hosts.hosts.get(Math.floorMod(next.getAndIncrement(), hosts.hosts.size()));
        Instant now = Instant.now();
        try {
          host.send(HostReport.newBuilder().setReportedAt(Timestamp.newBuilder().setSeconds(now.getEpochSecond())
              .setNanos(now.getNano())).build());
        } catch (RuntimeException closed) {
          // A stream that ended is not counted as handled; the figures show the gap.
        }
        sent[0]++;
      }
    }, 0, 10, TimeUnit.MILLISECONDS);
    Thread.sleep(length.toMillis());
    sender.shutdown();
    sender.awaitTermination(10, TimeUnit.SECONDS);
    long sentTotal = sent[0];
    long seconds = (System.nanoTime() - start) / 1_000_000;
    // Reports still in flight get a moment to be handled (counted, not in the rate's time).
    long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long handledInTime = latencies.count();
    while (latencies.count() < sentTotal && System.nanoTime() < settle) {
      Thread.sleep(20);
    }
    long[] sorted = latencies.sorted();
    return new Phase(name, perSecond, sentTotal, sorted.length, handledInTime * 1000.0 / Math.max(1, seconds),
        percentile(sorted, 50), percentile(sorted, 99), sorted.length == 0 ? 0 : sorted[sorted.length - 1]);
  }

  /** Hears every report the control plane handled and how long after the host sent it. */
  private static final class Latencies implements ReportIngest.Listener {
    private volatile long[] micros = new long[0];
    private final AtomicInteger size = new AtomicInteger();

    void reset(int capacity) {
      micros = new long[capacity];
      size.set(0);
    }

    @Override
    public void hostReported(String host, HostReport report) {
      if (!report.hasReportedAt()) {
        return; // the first report on opening, sent before the phases
      }
      Instant now = Instant.now();
      long sentMicros = report.getReportedAt().getSeconds() * 1_000_000 + report.getReportedAt().getNanos() / 1000;
      long nowMicros = now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
      int at = size.getAndIncrement();
      long[] into = micros;
      if (at < into.length) {
        into[at] = nowMicros - sentMicros;
      }
    }

    long count() {
      return size.get();
    }

    long[] sorted() {
      long[] out = Arrays.copyOf(micros, Math.min(size.get(), micros.length));
      Arrays.sort(out);
      return out;
    }
  }

  private static int awaitOnline(HostLiveness liveness, SimulatedHosts hosts, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    int online = 0;
    while (System.nanoTime() < deadline) {
      online = (int) hosts.hosts.stream()
          .filter(host -> liveness.connection(host.name) == HostConnection.HOST_CONNECTION_ONLINE).count();
      if (online == hosts.hosts.size()) {
        break;
      }
      Thread.sleep(50);
    }
    return online;
  }

  private static long percentile(long[] sorted, int p) {
    if (sorted.length == 0) {
      return 0;
    }
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }
}
