package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.stub.StreamObserver;
import io.infraveil.controlplane.history.HistoryWriter;
import io.infraveil.proto.v1.AgentReportServiceGrpc;
import io.infraveil.proto.v1.EventKind;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HeartbeatResponse;
import io.infraveil.proto.v1.HostEvent;
import io.infraveil.proto.v1.ListSecurityEventsRequest;
import io.infraveil.proto.v1.PayloadRef;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Events re-sent until acknowledged are kept once: over a real Heartbeat stream with host mTLS,
 * into the real H2 history, across a control plane restart.
 */
class EventsOnceTest {

  @TempDir Path dir;
  OpsHarness ops;
  OpsHarness.EnrolledHost web1;
  String sha;

  @BeforeEach
  void start() throws Exception {
    ops = new OpsHarness(dir, Map.of("infraveil.history-flush-interval", "1h"));
    web1 = ops.enroll("web-1");
    sha = ops.deploy("shop", "v1", "web-1");
  }

  @AfterEach
  void stop() throws Exception {
    if (ops != null) {
      ops.close();
    }
  }

  private HostEvent event(String instance, long sequence, EventKind kind, String message) {
    return HostEvent.newBuilder().setKind(kind).setDeployment("shop").setService("api")
        .setPayload(PayloadRef.newBuilder().setSha256(sha).setSize(1).setSequence(1))
        .setReason("HASH_MISMATCH").setMessage(message)
        .setInstanceId(instance).setSequence(sequence).build();
  }

  /** Sends each report on one Heartbeat stream, waiting for each ack. */
  private void heartbeats(List<List<HostEvent>> reports) throws Exception {
    LinkedBlockingQueue<Object> acks = new LinkedBlockingQueue<>();
    StreamObserver<HeartbeatRequest> stream = AgentReportServiceGrpc
        .newStub(ops.channel(web1.credential())).heartbeat(new StreamObserver<>() {
          @Override
          public void onNext(HeartbeatResponse value) {
            acks.add(value);
          }

          @Override
          public void onError(Throwable t) {
            acks.add(t);
          }

          @Override
          public void onCompleted() {}
        });
    long sequence = 0;
    for (List<HostEvent> events : reports) {
      stream.onNext(HeartbeatRequest.newBuilder().setHostName("web-1").setDeployment("shop")
          .setSequence(++sequence).addAllEvents(events).build());
      Object ack = acks.poll(20, TimeUnit.SECONDS);
      if (!(ack instanceof HeartbeatResponse response) || response.getAckedSequence() != sequence) {
        throw new AssertionError("expected the ack of report " + sequence + ", got " + ack);
      }
    }
    stream.onCompleted();
  }

  /** History rows whose text mentions {@code text}, as "source: text". */
  private List<String> historyRows(String text) throws Exception {
    ops.controlPlane.bean(HistoryWriter.class).flush();
    List<String> rows = new ArrayList<>();
    try (Connection c = ops.controlPlane.bean(DataSource.class).getConnection();
        PreparedStatement s = c.prepareStatement("SELECT source, text FROM history WHERE text LIKE ?"
            + " ORDER BY id")) {
      s.setString(1, "%" + text + "%");
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          rows.add(r.getString(1) + ": " + r.getString(2));
        }
      }
    }
    return rows;
  }

  /**
   * Exactly {@code agentRows} rows of the event itself mention {@code text}; a rejection also
   * makes as many pipeline steps and security-event rows.
   */
  private void assertRows(int agentRows, String text) throws Exception {
    List<String> rows = historyRows(text);
    assertEquals(agentRows, rows.stream().filter(r -> r.startsWith("AGENT: ")).count(),
        rows.toString());
    if (text.startsWith("rejected-")) {
      assertEquals(agentRows, rows.stream().filter(r -> r.startsWith("PIPELINE: ")).count(),
          rows.toString());
      assertEquals(agentRows, rows.stream().filter(r -> r.startsWith("SECURITY: ")).count(),
          rows.toString());
    }
  }

  private long securityEvents(String text) throws Exception {
    return ops.operator().listSecurityEvents(ListSecurityEventsRequest.newBuilder().setLimit(1000)
        .build()).getEventsList().stream()
        .filter(e -> e.getKind().equals("PAYLOAD_REJECTED") && e.getMessage().contains(text))
        .count();
  }

  // The same event re-sent in three reports (as an agent does until an ack arrives) is one
  // history row and one security event; a new event of the same agent still gets in.
  @Test
  void sameEventsSentTwiceMakeOneHistoryRowAndOneSecurityEvent() throws Exception {
    HostEvent rejected = event("agent-a", 1, EventKind.EVENT_KIND_PAYLOAD_REJECTED, "rejected-1");
    HostEvent crashed = event("agent-a", 2, EventKind.EVENT_KIND_SERVICE_UNHEALTHY, "crash-two");
    heartbeats(List.of(List.of(rejected), List.of(rejected, crashed), List.of(rejected, crashed)));

    assertRows(1, "rejected-1");
    assertRows(1, "crash-two");
    assertEquals(1, securityEvents("rejected-1"));

    heartbeats(List.of(List.of(crashed, event("agent-a", 3, EventKind.EVENT_KIND_SERVICE_UNHEALTHY,
        "crash-three"))));
    assertRows(1, "crash-two");
    assertRows(1, "crash-three");
  }

  // Another agent process (a restarted agent) numbers from 1 again: its events are its own.
  @Test
  void anotherInstanceWithTheSameSequenceIsAnotherEvent() throws Exception {
    heartbeats(List.of(List.of(event("agent-a", 1, EventKind.EVENT_KIND_SERVICE_UNHEALTHY, "agent-a-first")),
        List.of(event("agent-b", 1, EventKind.EVENT_KIND_SERVICE_UNHEALTHY, "agent-b-first"))));
    assertRows(1, "agent-a-first");
    assertRows(1, "agent-b-first");
  }

  // Re-sent after a control plane restart (the ack was lost with it): still one row.
  @Test
  void eventsResentAfterAControlPlaneRestartAreKeptOnce() throws Exception {
    HostEvent rejected = event("agent-a", 1, EventKind.EVENT_KIND_PAYLOAD_REJECTED, "rejected-restart");
    heartbeats(List.of(List.of(rejected)));
    assertRows(1, "rejected-restart");
    ops.close();
    ops = new OpsHarness(dir, Map.of("infraveil.history-flush-interval", "1h"));

    heartbeats(List.of(List.of(rejected)));

    assertRows(1, "rejected-restart");
    assertEquals(1, securityEvents("rejected-restart"));
  }

  // Events from hosts that send no id (older agents) are all kept, as before.
  @Test
  void eventsWithoutAnIdAreAllKept() throws Exception {
    HostEvent old = event("", 0, EventKind.EVENT_KIND_SERVICE_UNHEALTHY, "from-an-old-agent");
    heartbeats(List.of(List.of(old), List.of(old)));
    assertRows(2, "from-an-old-agent");
  }
}
