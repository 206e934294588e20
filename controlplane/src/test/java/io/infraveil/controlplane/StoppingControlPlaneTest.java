package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stopping control plane ends the long-lived streams it holds (a launcher's Sync) with
 * UNAVAILABLE and a reason, instead of leaving them open until the server's drain deadline
 * cuts them without one.
 */
class StoppingControlPlaneTest {

  @TempDir Path dir;
  OpsHarness ops;

  @AfterEach
  void stop() throws Exception {
    ops.close();
  }

  @Test
  void aStopEndsOpenSyncStreamsWithUnavailableAndSaysWhy() throws Exception {
    ops = new OpsHarness(dir, Map.of());
    var host = ops.enroll("web-1");
    LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    ops.sync(host, received);
    var open = ops.controlPlane.bean(io.infraveil.controlplane.auth.OpenStreams.class);
    for (int i = 0; i < 200 && open.count() == 0; i++) {
      Thread.sleep(50);
    }
    assertTrue(open.count() >= 1, "the Sync stream is open");

    Thread closing = new Thread(ops.controlPlane::close, "closing");
    closing.start();
    Object ended = null;
    for (Object next = received.poll(20, TimeUnit.SECONDS); next != null;
        next = received.poll(20, TimeUnit.SECONDS)) {
      if (next instanceof Throwable || "completed".equals(next)) {
        ended = next;
        break;
      }
    }
    closing.join(30_000);
    Throwable error = assertInstanceOf(Throwable.class, ended, "the stream ended with an error: " + ended);
    Status status = Status.fromThrowable(error);
    assertEquals(Status.Code.UNAVAILABLE, status.getCode(), status.toString());
    assertTrue(String.valueOf(status.getDescription()).contains("the control plane is stopping"), status.toString());
  }
}
