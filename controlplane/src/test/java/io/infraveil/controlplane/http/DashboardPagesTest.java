package io.infraveil.controlplane.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The dashboard's shared pieces: relative times and resolved incidents folded away. */
class DashboardPagesTest {

  static final Instant NOW = Instant.parse("2026-05-01T12:00:00Z");

  @ParameterizedTest
  @CsvSource({"0, just now", "4, just now", "5, 5 s ago", "89, 89 s ago", "90, 2 min ago", "5399, 90 min ago",
      "5400, 2 h ago", "129599, 36 h ago", "129600, 2 d ago", "-120, in 2 min"})
  void relativeTimes(long secondsAgo, String shown) {
    assertEquals(shown, DashboardPages.ago(NOW.minusSeconds(secondsAgo), NOW));
  }

  @Test
  void timeCarriesTheExactInstantForTheTooltip() {
    String html = DashboardPages.time(NOW.minus(Duration.ofMinutes(3)), NOW);
    assertEquals("<time datetime=\"2026-05-01T11:57:00Z\" title=\"2026-05-01T11:57:00Z\">3 min ago</time>", html);
  }

  @Test
  void openIncidentsShowAndResolvedOnesAreFoldedUnderOneClosedDetails() {
    Incident open = Incident.newBuilder().setId("i-open").setRule("HOST_OFFLINE").setState(IncidentState.INCIDENT_STATE_OPEN)
        .setHostName("web-1").setOpenedAt(ProtoTime.timestamp(NOW.minusSeconds(60))).build();
    Incident resolved = Incident.newBuilder().setId("i-old").setRule("SERVICE_FAILED")
        .setState(IncidentState.INCIDENT_STATE_RESOLVED).setDeployment("shop")
        .setOpenedAt(ProtoTime.timestamp(NOW.minusSeconds(7200)))
        .setResolvedAt(ProtoTime.timestamp(NOW.minusSeconds(3600))).build();

    String html = DashboardPages.incidents(List.of(resolved, open), i -> true, NOW);

    int details = html.indexOf("<details class=\"resolved\">");
    assertTrue(details > html.indexOf("i-open"), "the open incident comes first, outside: " + html);
    assertTrue(html.indexOf("i-old") > details, "the resolved one is inside the details: " + html);
    assertTrue(html.contains("<summary>1 resolved incident</summary>"), html);
    assertFalse(html.contains("<details class=\"resolved\" open"), "folded by default");
    assertTrue(html.contains("href=\"/dashboard/hosts/web-1\""), html);
    assertTrue(html.contains("href=\"/dashboard/deployments/shop\""), html);
  }

  @Test
  void namesInLinksAreEscaped() {
    assertEquals("<a href=\"/dashboard/hosts/a%3Cb\"><b>a&lt;b</b></a>", DashboardPages.hostLink("a<b"));
  }
}
