package io.infraveil.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * OpenSSL's speed on this machine, measured when asked: AES-256-GCM and SHA-256 from
 * {@code openssl speed} on 64 KiB blocks (the payload's record size), per second of CPU time
 * (openssl's default: what one core does, whatever else runs) or per second of wall time with
 * both running at once ({@code -elapsed}, two processes: the same work as open + verify on two
 * cores, under the same load), and SHA-256 as {@code openssl dgst -sha256} over the given bytes
 * (best of three, its process start and file reads included). 0 when openssl is missing.
 */
final class OpensslAnchor {

  private OpensslAnchor() {}

  static double aesGcmMbPerSecond() {
    return speed("aes-256-gcm");
  }

  /** {@code openssl speed -evp sha256} on 64 KiB blocks: SHA-256 without file or process. */
  static double sha256SpeedMbPerSecond() {
    return speed("sha256");
  }

  /**
   * AES-256-GCM and SHA-256 as two {@code openssl speed -elapsed} processes started together,
   * in MB per second of wall time: {@code [aes, sha256]}, zeros when openssl is missing.
   */
  static double[] parallelElapsedMbPerSecond(int seconds) {
    try {
      Process aes = start(speedCommand("aes-256-gcm", seconds, true));
      Process sha = start(speedCommand("sha256", seconds, true));
      return new double[] {parseSpeed(finish(aes, "aes-256-gcm")),
          parseSpeed(finish(sha, "sha256"))};
    } catch (IOException | RuntimeException e) {
      return new double[] {0, 0};
    }
  }

  private static double speed(String algorithm) {
    try {
      return parseSpeed(run(speedCommand(algorithm, 2, false), null));
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static List<String> speedCommand(String algorithm, int seconds, boolean elapsed) {
    List<String> command = new java.util.ArrayList<>(List.of("openssl", "speed"));
    if (elapsed) {
      command.add("-elapsed");
    }
    command.addAll(List.of("-evp", algorithm, "-bytes", "65536", "-seconds",
        Integer.toString(seconds)));
    return command;
  }

  /** The table's last line: "AES-256-GCM  1234567.89k" (thousands of bytes per second). */
  private static double parseSpeed(String out) {
    String[] lines = out.strip().split("\n");
    String[] fields = lines[lines.length - 1].trim().split("\\s+");
    String last = fields[fields.length - 1];
    return Double.parseDouble(last.substring(0, last.length() - 1)) * 1000 / 1e6;
  }

  static double sha256MbPerSecond(byte[] bytes) {
    try {
      Path file = Files.createTempFile("infraveil-bench", ".bin");
      try {
        Files.write(file, bytes);
        double best = 0;
        for (int i = 0; i < 3; i++) {
          long start = System.nanoTime();
          run(List.of("openssl", "dgst", "-sha256", file.toString()), null);
          best = Math.max(best, bytes.length / 1e6 / ((System.nanoTime() - start) / 1e9));
        }
        return best;
      } finally {
        Files.deleteIfExists(file);
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static String run(List<String> command, Path dir) throws IOException {
    return finish(start(command), command.toString());
  }

  private static Process start(List<String> command) throws IOException {
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  private static String finish(Process p, String command) throws IOException {
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException(command + " failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    return out;
  }
}
