package io.infraveil.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * OpenSSL's speed on this machine, measured when asked: AES-256-GCM and SHA-256 from
 * {@code openssl speed} on 64 KiB blocks (the payload's record size), and SHA-256 as
 * {@code openssl dgst -sha256} over the given bytes (best of three, its process start and file
 * reads included). 0 when openssl is missing.
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

  private static double speed(String algorithm) {
    try {
      String out = run(List.of("openssl", "speed", "-evp", algorithm, "-bytes", "65536",
          "-seconds", "2"), null);
      // The table's last line: "AES-256-GCM  1234567.89k" (thousands of bytes per second).
      String[] lines = out.strip().split("\n");
      String[] fields = lines[lines.length - 1].trim().split("\\s+");
      String last = fields[fields.length - 1];
      return Double.parseDouble(last.substring(0, last.length() - 1)) * 1000 / 1e6;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
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
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
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
