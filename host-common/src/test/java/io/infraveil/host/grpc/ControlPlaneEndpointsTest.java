package io.infraveil.host.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.infraveil.host.grpc.ControlPlaneChannels.Target;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The endpoint list of --control-plane and the ctl context: parsing, errors, spreading. */
class ControlPlaneEndpointsTest {

  @Test
  void parsesOneOrSeveralWithIpv6InBrackets() {
    assertEquals(List.of(new Target("cp.example", 7443)),
        ControlPlaneEndpoints.parse("cp.example:7443").targets());
    ControlPlaneEndpoints three = ControlPlaneEndpoints.parse("a:7443, b:7444 ,[::1]:7445");
    assertEquals(List.of(new Target("a", 7443), new Target("b", 7444), new Target("::1", 7445)),
        three.targets());
    assertEquals("a:7443,b:7444,[::1]:7445", three.toString());
    assertEquals(three, ControlPlaneEndpoints.parse(three.toString()));
  }

  @Test
  void errorsNameTheBadValue() {
    assertError("control plane endpoint 2 of 3 in \"a:7443,,b:7443\" is empty; remove the extra"
        + " comma", "a:7443,,b:7443");
    assertError("control plane endpoint 2 of 2 in \"a:7443,\" is empty; remove the extra comma",
        "a:7443,");
    assertError("control plane endpoint \"b:http\" has a port that is not a number in"
        + " \"a:7443,b:http\"", "a:7443,b:http");
    assertError("control plane endpoint \"b:70000\" has port 70000, outside 1-65535 in"
        + " \"a:1,b:70000\"", "a:1,b:70000");
    assertError("control plane endpoint \"b\" must look like HOST:PORT in \"a:1,b\"", "a:1,b");
    assertError("control plane endpoint \"::1:7443\": write an IPv6 address in brackets, as in"
        + " [::1]:7443", "::1:7443");
    assertError("control plane endpoint B:7443 is given twice in \"b:7443,a:7443,B:7443\"; list"
        + " each replica once", "b:7443,a:7443,B:7443");
    assertError("no control plane endpoint given: expected HOST:PORT or a comma-separated list"
        + " HOST:PORT,HOST:PORT", " ");
  }

  @Test
  void shuffleSpreadsHostsOverEveryReplicaAndKeepsEachOnce() {
    ControlPlaneEndpoints list = ControlPlaneEndpoints.parse("a:1,b:1,c:1");
    Set<Target> firsts = new HashSet<>();
    SplittableRandom random = new SplittableRandom(42);
    for (int host = 0; host < 60; host++) {
      ControlPlaneEndpoints order = list.shuffled(random);
      assertEquals(Set.copyOf(list.targets()), Set.copyOf(order.targets()));
      firsts.add(order.first());
    }
    assertEquals(Set.copyOf(list.targets()), firsts);
  }

  private static void assertError(String expected, String list) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ControlPlaneEndpoints.parse(list));
    assertEquals(expected, e.getMessage());
  }
}
