package io.infraveil.bench.memory;

import io.infraveil.bench.crash.CrashRestartBench;
import io.infraveil.host.jvm.HostJvmOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Resident memory of the host processes: with {@link DevStack} up (a launcher, and the agent of
 * {@code hello}, one service), after the idle time the bench reads VmRSS of the launcher and the
 * agent from /proc and prints them beside baselines measured in the same run: an idle
 * hello-world JVM with no options and with the agents' options.
 *
 * <pre>java -cp ... io.infraveil.bench.memory.HostMemoryBench [idleSeconds=300]</pre>
 */
public final class HostMemoryBench {

  /** Resident set sizes in KiB. */
  public record Result(long launcherKib, long agentKib, long plainJvmKib, long optionedJvmKib,
      Duration idle, List<String> agentOptions) {
    public String describe() {
      return String.format(Locale.ROOT, "host memory after %d s idle (VmRSS):%n"
              + "  launcher            %6.1f MiB  (goal <= 64)%n"
              + "  agent (1 service)   %6.1f MiB  (goal <= 48)%n"
              + "  idle JVM, no flags  %6.1f MiB  (baseline)%n"
              + "  idle JVM, agent's   %6.1f MiB  (baseline, %s)%n",
          idle.toSeconds(), launcherKib / 1024.0, agentKib / 1024.0, plainJvmKib / 1024.0,
          optionedJvmKib / 1024.0, String.join(" ", agentOptions));
    }
  }

  private HostMemoryBench() {}

  public static void main(String[] args) throws Exception {
    Duration idle = Duration.ofSeconds(args.length > 0 ? Long.parseLong(args[0]) : 300);
    Path work = Files.createTempDirectory("infraveil-memory-bench");
    try (DevStack stack = DevStack.start(CrashRestartBench.repoRoot(), work.resolve("dev"))) {
      System.out.print(measure(stack, idle).describe());
      System.out.print(CtlStatusBench.measure(stack, 5, work).describe());
    }
  }

  public static Result measure(DevStack stack, Duration idle) throws Exception {
    Process plain = idleJvm(List.of());
    Process optioned = idleJvm(HostJvmOptions.agent());
    try {
      Thread.sleep(idle.toMillis());
      return new Result(rssKib(stack.launcherPid()), rssKib(stack.agentPid()),
          rssKib(plain.pid()), rssKib(optioned.pid()), idle, HostJvmOptions.agent());
    } finally {
      plain.destroyForcibly();
      optioned.destroyForcibly();
    }
  }

  private static Process idleJvm(List<String> options) throws IOException {
    List<String> command = new ArrayList<>(List.of(DevStack.java()));
    command.addAll(options);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"),
        IdleJvm.class.getName()));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
        .readLine();
    return p;
  }

  /** VmRSS of {@code pid} in KiB. */
  static long rssKib(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmRSS for pid " + pid);
  }
}
