package io.infraveil.host.jvm;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * JVM options of the host processes: one launcher per host and one agent per deployment per
 * host, so their footprint multiplies. The defaults are chosen for small heaps (serial GC, a
 * capped heap, code cache, metaspace and thread stacks); C2 stays on because agents verify
 * payloads (AES-GCM and SHA-256 intrinsics need it). An environment variable replaces them
 * entirely: {@value #AGENT_ENV} for the agents a launcher spawns (read by the launcher),
 * {@value #LAUNCHER_ENV} for a launcher (read by {@code bin/infraveil} and by {@code dev}).
 */
public final class HostJvmOptions {

  public static final String AGENT_ENV = "INFRAVEIL_AGENT_JAVA_OPTS";
  public static final String LAUNCHER_ENV = "INFRAVEIL_LAUNCHER_JAVA_OPTS";

  /** Small-heap options shared by launcher and agent. */
  private static final List<String> COMMON = List.of(
      "-XX:+UseSerialGC",
      // Give heap back soon after a burst (a payload fetch) instead of keeping 40-70 % free.
      "-XX:MinHeapFreeRatio=10",
      "-XX:MaxHeapFreeRatio=20",
      "-XX:ReservedCodeCacheSize=32m",
      "-XX:MaxMetaspaceSize=96m",
      "-Xss512k",
      "-XX:-UsePerfData",
      // One pooled arena for Netty's direct buffers: a host process has one or two streams.
      "-Dio.netty.allocator.numDirectArenas=1",
      "-Dio.netty.allocator.numHeapArenas=1",
      // Netty 4.2 registers flight-recorder events for its allocator and transports, which
      // loads about 100 jdk.jfr classes into a process that never records.
      "-Dio.netty.jfr.enabled=false");

  /**
   * Maps the JDK's class-data archive where it was made instead of at a random address: moved,
   * every pointer in it is rewritten at start, so about 10 MiB of it become private dirty pages
   * in each JVM; in place, its read-only part stays clean file pages shared by every host JVM
   * on the machine (and by any later AppCDS archive mapped the same way). A diagnostic option
   * (the management API does not show it, so it is not looked up as the one below is); Java 17
   * to 25 know it.
   */
  private static final List<String> SHARED_ARCHIVE_IN_PLACE =
      List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:ArchiveRelocationMode=0");

  /**
   * Returns memory the C2 compiler and others freed to the kernel every 10 s (glibc keeps it
   * otherwise: about 10 MiB per idle JVM); only where this JVM knows the option (17.0.9+, 21+),
   * since a JVM refuses to start on an option it does not know.
   */
  private static final List<String> TRIM_NATIVE_HEAP = knows("TrimNativeHeapInterval")
      ? List.of("-XX:TrimNativeHeapInterval=10000") : List.of();

  /**
   * The agents' defaults; see the class comment. Every deploy starts an agent, so its heap
   * starts at 24 MiB, about what a running agent holds anyway: from 4 MiB its start went
   * through about 50 collections, 8 of them full ones, while the heap grew step by step.
   * On Java 17 to 20 also vfork instead of the spawn helper, one exec less between a crash
   * and its replacement (later JDKs deprecate it and say so on stderr).
   */
  public static final List<String> AGENT_DEFAULTS = concat(
      Runtime.version().feature() < 21
          ? List.of("-Xms24m", "-Xmx64m", "-Djdk.lang.Process.launchMechanism=VFORK")
          : List.of("-Xms24m", "-Xmx64m"));

  /** The launcher's defaults; {@code bin/infraveil} holds the same list. */
  public static final List<String> LAUNCHER_DEFAULTS = concat(List.of("-Xms4m", "-Xmx64m"));


  private HostJvmOptions() {}

  /** What the launcher puts before the agent's main class. */
  public static List<String> agent() {
    return agent(System.getenv());
  }

  static List<String> agent(Map<String, String> env) {
    return fromEnv(env, AGENT_ENV, AGENT_DEFAULTS);
  }

  /** What {@code dev} puts before the launcher's main class. */
  public static List<String> launcher() {
    return launcher(System.getenv());
  }

  static List<String> launcher(Map<String, String> env) {
    return fromEnv(env, LAUNCHER_ENV, LAUNCHER_DEFAULTS);
  }

  /** The variable's options, split at white space, when it is set (set but empty: none). */
  private static List<String> fromEnv(Map<String, String> env, String name,
      List<String> defaults) {
    Objects.requireNonNull(env, "env");
    String value = env.get(name);
    if (value == null) {
      return defaults;
    }
    String trimmed = value.trim();
    return trimmed.isEmpty() ? List.of() : Arrays.asList(trimmed.split("\\s+"));
  }

  private static List<String> concat(List<String> heap) {
    return java.util.stream.Stream.of(COMMON, heap, TRIM_NATIVE_HEAP, SHARED_ARCHIVE_IN_PLACE)
        .flatMap(List::stream)
        .toList();
  }

  /** Whether this JVM has the HotSpot option {@code name} (the agents run the same JVM). */
  private static boolean knows(String name) {
    try {
      java.lang.management.ManagementFactory.getPlatformMXBean(
          com.sun.management.HotSpotDiagnosticMXBean.class).getVMOption(name);
      return true;
    } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
      return false;
    }
  }
}
