package io.infraveil.bench;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.infraveil.payload.Sha256Hex;
import io.infraveil.payload.seal.DataKeys;
import io.infraveil.payload.seal.RecordFormat;
import io.infraveil.payload.seal.RecordOpener;
import io.infraveil.payload.seal.RecordSealer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Sealing and opening throughput of the payload record format (AES-256-GCM, 64 KiB records,
 * SHA-256 on the way), measured after a warm-up so C2 has compiled the hot path. Prints MB/s
 * twice: per second of wall time, and per second of CPU time of the busier of the two threads
 * of an open (what two free cores would do). The first compares with OpenSSL's AES-256-GCM and
 * SHA-256 running at the same time in wall time; the second with {@code openssl speed}'s own
 * figures, which are per second of CPU time. On a shared machine only like compares with like.
 */
public final class PayloadCryptoBench {

  /** Bytes opened per measured round at least, so CPU times (10 ms ticks) mean something. */
  private static final long ROUND_BYTES = 256L * 1024 * 1024;

  /**
   * Median throughputs over the measured rounds, beside the same run's OpenSSL figures (0 where
   * openssl is not installed) and the JDK's SHA-256 alone over the same bytes.
   *
   * @param openMbPerSecond open + verify per second of wall time
   * @param openPerCoreMbPerSecond open + verify per second of CPU time of the busier of its two
   *     threads: the one decrypting or the one hashing and writing
   * @param opensslAesGcmMbPerSecond {@code openssl speed}, per second of CPU time
   * @param opensslParallelAesGcmMbPerSecond {@code openssl speed -elapsed}, both started
   *     together, per second of wall time
   * @param jdkSha256MbPerSecond the JDK's SHA-256 over the same bytes, per second of CPU time
   * @param sha256Implementation which SHA-256 open + verify used
   */
  public record Result(int megabytes, double sealMbPerSecond, double openMbPerSecond,
      double openPerCoreMbPerSecond, double opensslAesGcmMbPerSecond,
      double opensslSha256MbPerSecond, double opensslParallelAesGcmMbPerSecond,
      double opensslParallelSha256MbPerSecond, double opensslDgstMbPerSecond,
      double jdkSha256MbPerSecond, String sha256Implementation) {

    /** The limit per core: the slower of openssl speed's AES-256-GCM and SHA-256 (CPU time). */
    public double limitMbPerSecond() {
      return Math.min(opensslAesGcmMbPerSecond, opensslSha256MbPerSecond);
    }

    /** The limit in wall time: the slower of the two when both run at once. */
    public double wallLimitMbPerSecond() {
      return Math.min(opensslParallelAesGcmMbPerSecond, opensslParallelSha256MbPerSecond);
    }

    public double perCoreRatio() {
      return limitMbPerSecond() > 0 ? openPerCoreMbPerSecond / limitMbPerSecond() : 0;
    }

    public double wallRatio() {
      return wallLimitMbPerSecond() > 0 ? openMbPerSecond / wallLimitMbPerSecond() : 0;
    }

    public String describe() {
      return String.format(Locale.ROOT, "payload crypto, %d MiB: seal %.0f MB/s,"
              + " open+verify %.0f MB/s wall, %.0f MB/s per core (median)%n"
              + "  SHA-256 used: %s%n"
              + "  openssl speed (per CPU second) aes-256-gcm %.0f MB/s, sha256 %.0f MB/s;"
              + " both at once (-elapsed, wall) %.0f / %.0f MB/s%n"
              + "  openssl dgst -sha256 over the same bytes %.0f MB/s wall;"
              + " JDK SHA-256 alone over the same bytes %.0f MB/s per CPU second%n"
              + "  open+verify per core / openssl's slower per CPU second: %.2f (goal >= 0.9)%n"
              + "  open+verify wall / openssl's slower with both at once, wall: %.2f",
          megabytes, sealMbPerSecond, openMbPerSecond, openPerCoreMbPerSecond,
          sha256Implementation, opensslAesGcmMbPerSecond, opensslSha256MbPerSecond,
          opensslParallelAesGcmMbPerSecond, opensslParallelSha256MbPerSecond,
          opensslDgstMbPerSecond, jdkSha256MbPerSecond, perCoreRatio(), wallRatio());
    }
  }

  private PayloadCryptoBench() {}

  public static void main(String[] args) throws Exception {
    int megabytes = args.length > 0 ? Integer.parseInt(args[0]) : 64;
    System.out.println(run(megabytes, 3, 5).describe());
  }

  public static Result run(int megabytes, int warmups, int rounds) throws Exception {
    SecureRandom random = new SecureRandom();
    byte[] plaintext = new byte[megabytes * 1024 * 1024];
    random.nextBytes(plaintext);
    var key = DataKeys.newDataKey(random);
    byte[] prefix = RecordFormat.newNoncePrefix(random);
    int recordSize = RecordFormat.DEFAULT_RECORD_SIZE;
    int opensPerRound = (int) Math.max(1, ROUND_BYTES / Math.max(1, plaintext.length));
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    List<Double> seal = new ArrayList<>();
    List<Double> open = new ArrayList<>();
    List<Double> openPerCore = new ArrayList<>();
    byte[] ciphertext = null;
    for (int round = 0; round < warmups + rounds; round++) {
      ByteArrayOutputStream out =
          new ByteArrayOutputStream(plaintext.length + plaintext.length / 1000);
      long start = System.nanoTime();
      RecordSealer.seal(new ByteArrayInputStream(plaintext), out, key, prefix, recordSize);
      long sealed = System.nanoTime();
      ciphertext = out.toByteArray();
      if (round >= warmups) {
        seal.add(plaintext.length / 1e6 / ((sealed - start) / 1e9));
      }
    }
    // Opens after all seals, so no sealing garbage is collected while they run.
    for (int round = 0; round < warmups + rounds; round++) {
      long ownCpu = threads.getCurrentThreadCpuTime();
      long hashCpu = 0;
      long openStart = System.nanoTime();
      for (int i = 0; i < opensPerRound; i++) {
        HashThreadClock sink = new HashThreadClock(threads);
        RecordOpener.open(new ByteArrayInputStream(ciphertext), sink, key, prefix, recordSize,
            plaintext.length);
        hashCpu += sink.cpuNanos;
      }
      long wall = System.nanoTime() - openStart;
      long decryptCpu = threads.getCurrentThreadCpuTime() - ownCpu;
      if (round >= warmups) {
        double megabytesOpened = (double) opensPerRound * plaintext.length / 1e6;
        open.add(megabytesOpened / (wall / 1e9));
        openPerCore.add(megabytesOpened / (Math.max(decryptCpu, hashCpu) / 1e9));
      }
    }
    double jdkSha = 0;
    for (int round = 0; round < 3; round++) {
      MessageDigest digest = Sha256Hex.newDigest();
      long start = threads.getCurrentThreadCpuTime();
      for (int i = 0; i < opensPerRound; i++) {
        for (int off = 0; off < plaintext.length; off += recordSize) {
          digest.update(plaintext, off, Math.min(recordSize, plaintext.length - off));
        }
        digest.digest();
      }
      long cpu = threads.getCurrentThreadCpuTime() - start;
      jdkSha = Math.max(jdkSha, (double) opensPerRound * plaintext.length / 1e6 / (cpu / 1e9));
    }
    double[] parallel = OpensslAnchor.parallelElapsedMbPerSecond(2);
    return new Result(megabytes, median(seal), median(open), median(openPerCore),
        OpensslAnchor.aesGcmMbPerSecond(), OpensslAnchor.sha256SpeedMbPerSecond(),
        parallel[0], parallel[1], OpensslAnchor.sha256MbPerSecond(plaintext), jdkSha,
        sha256Implementation());
  }

  /**
   * Discards the plaintext, noting the CPU time of the thread that writes it: the open's
   * hashing thread, new for each open, which writes each chunk right after hashing it.
   */
  private static final class HashThreadClock extends OutputStream {
    private final ThreadMXBean threads;
    volatile long cpuNanos;

    HashThreadClock(ThreadMXBean threads) {
      this.threads = threads;
    }

    @Override
    public void write(int b) {
      cpuNanos = threads.getCurrentThreadCpuTime();
    }

    @Override
    public void write(byte[] b, int off, int len) {
      cpuNanos = threads.getCurrentThreadCpuTime();
    }
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(sorted.size() / 2);
  }

  /** The digest's provider, whether HotSpot's SHA intrinsics are on, whether the CPU has SHA. */
  static String sha256Implementation() {
    MessageDigest digest = Sha256Hex.newDigest();
    String intrinsic;
    try {
      // A product flag; UseSHA256Intrinsics (diagnostic) follows it on x86 when the CPU has SHA.
      intrinsic = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
          .getVMOption("UseSHA").getValue();
    } catch (RuntimeException e) {
      intrinsic = "unknown";
    }
    String shaNi;
    try {
      shaNi = Files.readString(Path.of("/proc/cpuinfo")).contains(" sha_ni") ? "yes" : "no";
    } catch (IOException e) {
      shaNi = "unknown";
    }
    return "JDK " + digest.getAlgorithm() + " from provider " + digest.getProvider().getName()
        + " (Java " + Runtime.version() + "), HotSpot UseSHA=" + intrinsic
        + ", CPU sha_ni: " + shaNi;
  }
}
