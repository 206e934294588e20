package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.appconfig.PortSpec;
import io.infraveil.appconfig.RunSpec;
import io.infraveil.appconfig.ServiceSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ports per name and cluster index: chosen once, kept while free, replaced when taken. */
class PortAssignmentsTest {

  @TempDir Path dir;

  /** Hands out ports from a list; ports in {@code busy} are not free. */
  private static final class ScriptedPorts implements FreePorts {
    final Deque<Integer> next = new ArrayDeque<>();
    final Set<Integer> busy = new HashSet<>();

    ScriptedPorts(Integer... ports) {
      next.addAll(List.of(ports));
    }

    @Override
    public int pick() {
      return next.removeFirst();
    }

    @Override
    public boolean isFree(int port) {
      return !busy.contains(port);
    }
  }

  private static ServiceSpec spec(String name, int clusters, PortSpec... ports) {
    return new ServiceSpec(name, 1, clusters, new RunSpec(List.of(), List.of("x"), List.of()),
        Optional.empty(), Map.of(), "TERM", Duration.ofSeconds(1),
        io.infraveil.appconfig.ResourcesSpec.NONE, Optional.empty(), List.of(), List.of(ports));
  }

  @Test
  void choosesOnePortPerNameAndIndexAndFixedOnesForEveryIndex() {
    ScriptedPorts free = new ScriptedPorts(41001, 41002, 41003, 41004);
    PortAssignments ports = new PortAssignments(dir, free);
    ServiceSpec api = spec("api", 2, PortSpec.dynamic("http"),
        new PortSpec("metrics", OptionalInt.of(9100)), PortSpec.dynamic("admin"));
    Map<Integer, Map<String, Integer>> got = ports.assign(api);
    assertEquals(Map.of(0, Map.of("http", 41001, "metrics", 9100, "admin", 41002),
        1, Map.of("http", 41003, "metrics", 9100, "admin", 41004)), got);
    assertEquals(Map.of(), ports.assign(spec("plain", 2)));
  }

  // A restarted agent (a new instance over the same dir) gives every instance its port back.
  @Test
  void keepsPortsAcrossAgentRestartsWhileFree() throws Exception {
    ScriptedPorts free = new ScriptedPorts(41001, 41002);
    ServiceSpec api = spec("api", 2, PortSpec.dynamic("http"));
    Map<Integer, Map<String, Integer>> first = new PortAssignments(dir, free).assign(api);
    assertTrue(Files.exists(dir.resolve(PortAssignments.FILE)));
    Map<Integer, Map<String, Integer>> again = new PortAssignments(dir, new ScriptedPorts())
        .assign(api);
    assertEquals(first, again);
  }

  // A kept port that something else now listens on is replaced, and only that one.
  @Test
  void replacesAPortTakenMeanwhile() {
    ScriptedPorts free = new ScriptedPorts(41001, 41002, 41003);
    PortAssignments ports = new PortAssignments(dir, free);
    ServiceSpec api = spec("api", 2, PortSpec.dynamic("http"));
    ports.assign(api);
    free.busy.add(41001);
    assertEquals(Map.of(0, Map.of("http", 41003), 1, Map.of("http", 41002)), ports.assign(api));
    // an adopted instance holds its own port: current() does not look
    free.busy.add(41003);
    assertEquals(Map.of(0, Map.of("http", 41003), 1, Map.of("http", 41002)),
        ports.current(api));
  }

  // A port the kernel offers again that another instance of this agent already has is skipped.
  @Test
  void neverGivesTwoInstancesOnePort() {
    ScriptedPorts free = new ScriptedPorts(41001, 41001, 41002);
    Map<Integer, Map<String, Integer>> got = new PortAssignments(dir, free)
        .assign(spec("api", 2, PortSpec.dynamic("http")));
    assertNotEquals(got.get(0).get("http"), got.get(1).get("http"));
  }

  @Test
  void systemPortsAreFreeUntilSomethingListens() throws Exception {
    int port = FreePorts.SYSTEM.pick();
    assertTrue(FreePorts.SYSTEM.isFree(port));
    try (java.net.ServerSocket taken = new java.net.ServerSocket(port)) {
      assertTrue(!FreePorts.SYSTEM.isFree(port));
    }
  }
}
