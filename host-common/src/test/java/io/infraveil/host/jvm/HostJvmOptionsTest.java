package io.infraveil.host.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Small-heap defaults unless the environment variable says otherwise (set but empty: none). */
class HostJvmOptionsTest {

  @Test
  void defaultsCapTheHeapWithTheSerialCollector() {
    for (List<String> options : List.of(HostJvmOptions.agent(Map.of()),
        HostJvmOptions.launcher(Map.of()))) {
      assertTrue(options.contains("-XX:+UseSerialGC"), options.toString());
      assertTrue(options.contains("-Xmx64m"), options.toString());
      assertTrue(options.stream().noneMatch(o -> o.startsWith("-XX:TieredStopAtLevel")),
          "C2 stays on for the payload crypto: " + options);
    }
  }

  @Test
  void theEnvironmentReplacesTheDefaultsWhole() {
    assertEquals(List.of("-Xmx1g", "-XX:+UseG1GC"), HostJvmOptions.agent(
        Map.of(HostJvmOptions.AGENT_ENV, "  -Xmx1g   -XX:+UseG1GC ")));
    assertEquals(List.of(), HostJvmOptions.launcher(Map.of(HostJvmOptions.LAUNCHER_ENV, "")));
    assertEquals(HostJvmOptions.LAUNCHER_DEFAULTS, HostJvmOptions.launcher(
        Map.of(HostJvmOptions.AGENT_ENV, "-Xmx1g")));
  }

  // The scripts start a launcher without Java code to ask: they hold the same list, less the
  // options the Java side adds only where the JVM knows them (TrimNativeHeapInterval).
  @Test
  void theStartScriptsHoldTheLaunchersDefaults() throws Exception {
    List<String> expected = HostJvmOptions.LAUNCHER_DEFAULTS.stream()
        .filter(o -> !o.startsWith("-XX:TrimNativeHeapInterval")).toList();
    java.nio.file.Path root = java.nio.file.Path.of("..").toAbsolutePath().normalize();
    for (String script : List.of("bin/infraveil", "dist/src/main/dist/bin/infraveil")) {
      String text = java.nio.file.Files.readString(root.resolve(script));
      java.util.regex.Matcher m = java.util.regex.Pattern
          .compile("(?m)^LAUNCHER_DEFAULTS=\"([^\"]*)\"").matcher(text);
      assertTrue(m.find(), "no LAUNCHER_DEFAULTS=\"...\" line in " + script);
      assertEquals(expected, List.of(m.group(1).trim().split("\\s+")),
          script + " must hold HostJvmOptions.LAUNCHER_DEFAULTS");
    }
  }

  // Every default is one this JVM accepts (a JVM refuses to start on an unknown option).
  @Test
  void thisJvmStartsWithTheDefaults() throws Exception {
    for (List<String> options : List.of(HostJvmOptions.AGENT_DEFAULTS,
        HostJvmOptions.LAUNCHER_DEFAULTS)) {
      List<String> command = new java.util.ArrayList<>();
      command.add(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
          .toString());
      command.addAll(options);
      command.add("-version");
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertEquals(0, p.waitFor(), out);
    }
  }
}
