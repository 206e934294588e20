package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.certs.Identity;
import io.infraveil.certs.PkiDirectory;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `infraveil controlplane --config controlplane.yaml` as a real process: it says when it serves,
 * answers ctl, and SIGTERM stops it cleanly (the shutdown hook closes the server and the
 * database).
 */
class ControlPlaneCommandTest {

  private static final Pattern READY = Pattern.compile("controlplane ready grpc=localhost:(\\d+)");

  @TempDir Path dir;

  @Test
  void servesUntilSigtermThenStops() throws Exception {
    Path pkiDir = dir.resolve("pki");
    PkiDirectory pki = new PkiDirectory(pkiDir, Clock.systemUTC());
    pki.init("test.infraveil");
    pki.issue(Identity.Kind.OPERATOR, "alice", List.of(), Duration.ofHours(1));
    Path errLog = dir.resolve("controlplane.err");
    // The form a systemd unit runs: every setting in controlplane.yaml.
    Path config = Files.writeString(dir.resolve("controlplane.yaml"), """
        data-dir: data
        certs: pki
        grpc-port: 0
        http-port: 0
        retention: 1h30m
        join-token-ttl: PT2H
        """);
    Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "controlplane",
        "--config", config.toString())
        .redirectError(errLog.toFile())
        .start();
    try {
      BufferedReader out = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      // Structured log lines may come first; the ready line is the contract.
      Matcher ready = null;
      StringBuilder seen = new StringBuilder();
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        seen.append(line).append('\n');
        Matcher candidate = READY.matcher(line);
        if (candidate.matches()) {
          ready = candidate;
          break;
        }
      }
      assertTrue(ready != null, () -> "no ready line; stdout:\n" + seen + "stderr:\n" + read(errLog));
      Path context = Files.writeString(dir.resolve("ctl.yaml"), "endpoint=localhost:" + ready.group(1)
          + "\nca=pki/ca.crt\ncert=pki/alice.crt\nkey=pki/alice.key\n");

      Cli.Result hosts = Cli.run("ctl", "--context", context.toString(), "hosts");
      assertEquals(0, hosts.code(), hosts::toString);

      // join-token-ttl from the file reached the control plane: tokens last 2 h, not 1 h.
      Instant asked = Instant.now();
      Cli.Result token = Cli.run("ctl", "--context", context.toString(), "tokens", "create",
          "web-9", "-o", "json");
      assertEquals(0, token.code(), token::toString);
      Matcher expires = Pattern.compile("\"expiresAt\": \"([^\"]+)\"").matcher(token.out());
      assertTrue(expires.find(), token::toString);
      Duration ttl = Duration.between(asked, Instant.parse(expires.group(1)));
      assertTrue(ttl.compareTo(Duration.ofMinutes(119)) > 0
          && ttl.compareTo(Duration.ofMinutes(121)) < 0, ttl::toString);

      process.destroy(); // SIGTERM
      assertTrue(process.waitFor(30, TimeUnit.SECONDS), "still running 30 s after SIGTERM");
      assertEquals(143, process.exitValue(), () -> "stderr:\n" + read(errLog));
      String err = read(errLog);
      assertTrue(!err.contains("Exception"), err);
    } finally {
      process.destroyForcibly();
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (Exception e) {
      return "(unreadable: " + e + ")";
    }
  }
}
