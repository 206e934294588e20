package io.infraveil.controlplane.incidents;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.ServiceState;
import io.infraveil.proto.v1.ServiceStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The SERVICE_FAILED finding says how many restarts, why, and what the last one died of. */
class ServiceFailedRuleTest {

  private static final Instant AT = Instant.parse("2030-01-01T00:00:00Z");

  @Test
  void findingNamesRestartsReasonAndLastFailure() {
    ServiceFailedRule rule = new ServiceFailedRule();
    rule.agentReported(new ReportIngest.AgentReport("web-1", AT, HeartbeatRequest.newBuilder()
        .setHostName("web-1").setDeployment("shop")
        .addServices(ServiceStatus.newBuilder().setName("api")
            .setState(ServiceState.SERVICE_STATE_FAILED).setRestartsInWindow(8)
            .setReason("BUDGET_EXHAUSTED")
            .setLastFailure("CHECK_FAILED: check output of 'curl -s localhost' lacks \"ok\""))
        .addServices(ServiceStatus.newBuilder().setName("worker")
            .setState(ServiceState.SERVICE_STATE_RUNNING))
        .build()));

    List<Finding> findings = rule.findings(AT);

    assertEquals(1, findings.size());
    assertEquals("api", findings.get(0).service());
    assertEquals("service api of shop on web-1 FAILED after 8 restarts: BUDGET_EXHAUSTED; last"
        + " failure: CHECK_FAILED: check output of 'curl -s localhost' lacks \"ok\"",
        findings.get(0).summary());
  }
}
