package io.infraveil.cli.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import org.junit.jupiter.api.Test;

class StatusCommandTest {

  // The STATE column says when and at which limit the kernel OOM-killed a service.
  @Test
  void stateShowsOomKillsWithTheLimit() {
    ServiceStatus running = ServiceStatus.newBuilder().setName("api")
        .setState(ServiceState.SERVICE_STATE_RUNNING).build();
    assertEquals(Format.enumName(ServiceState.SERVICE_STATE_RUNNING), StatusCommand.state(running));
    ServiceStatus killed = running.toBuilder().setState(ServiceState.SERVICE_STATE_HEALING)
        .setOomKills(2).setMemoryLimitBytes(256L << 20).build();
    assertEquals(Format.enumName(ServiceState.SERVICE_STATE_HEALING) + " (OOM-killed 2 at 256Mi)",
        StatusCommand.state(killed));
  }
}
