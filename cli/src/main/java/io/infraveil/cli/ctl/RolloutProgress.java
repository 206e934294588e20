package io.infraveil.cli.ctl;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.proto.v1.GetRolloutRequest;
import io.infraveil.proto.v1.Rollout;
import io.infraveil.proto.v1.RolloutHost;
import io.infraveil.proto.v1.RolloutHostState;
import io.infraveil.proto.v1.RolloutState;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Follows a rollout until it ends: on a terminal a progress bar redrawn in place, otherwise one
 * plain line per change (batch, hosts healthy / updating / failed, each host's step). Polls
 * GetRollout, so a control plane restart in the middle only delays the next line.
 */
final class RolloutProgress {

  /** How a wait ended: the exit code of {@code deploy --wait} and {@code rollout status --watch}. */
  enum Outcome {
    SUCCEEDED(0), FAILED(1), TIMED_OUT(2);

    final int exitCode;

    Outcome(int exitCode) {
      this.exitCode = exitCode;
    }
  }

  private static final long POLL_MILLIS = 500;
  /** How long to wait for the incident that names a failure to open. */
  private static final long INCIDENT_WAIT_MILLIS = 15_000;

  private final Connection connection;
  private final PrintWriter out;
  private final boolean tty;
  private final LongSupplier nanos;
  private final Map<String, RolloutHostState> seen = new HashMap<>();
  private String lastLine = "";

  RolloutProgress(Connection connection, PrintWriter out, boolean tty) {
    this.connection = connection;
    this.out = out;
    this.tty = tty;
    this.nanos = System::nanoTime;
  }

  /**
   * Waits for rollout {@code id} of {@code deployment} (0: whichever is latest) to end, or
   * {@code timeout}. Returns how it ended and the rollout last seen.
   */
  Result await(String deployment, long id, Duration timeout) throws InterruptedException {
    long deadline = nanos.getAsLong() + timeout.toNanos();
    Rollout last = null;
    while (true) {
      Rollout current = poll(deployment);
      if (current != null) {
        if (id != 0 && current.getId() != id) {
          // A newer version superseded the one we wait for.
          end();
          out.println("rollout " + id + " was superseded by rollout " + current.getId() + " of "
              + current.getPayload().getVersion());
          out.flush();
          return new Result(Outcome.FAILED, current);
        }
        last = current;
        show(current);
        if (terminal(current.getState())) {
          end();
          if (current.getState() == RolloutState.ROLLOUT_STATE_SUCCEEDED) {
            return new Result(Outcome.SUCCEEDED, current);
          }
          Rollout withIncident = awaitIncident(deployment, current);
          return new Result(Outcome.FAILED, withIncident);
        }
      }
      if (nanos.getAsLong() - deadline >= 0) {
        end();
        return new Result(Outcome.TIMED_OUT, last);
      }
      Thread.sleep(POLL_MILLIS);
    }
  }

  /** How the wait ended and the rollout as last seen (null if never seen). */
  record Result(Outcome outcome, Rollout rollout) {}

  private Rollout awaitIncident(String deployment, Rollout failed) throws InterruptedException {
    long until = nanos.getAsLong() + INCIDENT_WAIT_MILLIS * 1_000_000;
    Rollout current = failed;
    while (current.getIncidentId().isEmpty() && nanos.getAsLong() - until < 0) {
      Thread.sleep(POLL_MILLIS);
      Rollout again = poll(deployment);
      if (again != null && again.getId() == failed.getId()) {
        current = again;
      }
    }
    return current;
  }

  private Rollout poll(String deployment) {
    try {
      return connection.rollouts().getRollout(GetRolloutRequest.newBuilder().setDeployment(deployment).build())
          .getRollout();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNAVAILABLE
          || e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
        return null; // the control plane restarts: keep waiting
      }
      throw e;
    }
  }

  private void show(Rollout r) {
    if (!tty) {
      for (RolloutHost h : r.getHostsList()) {
        RolloutHostState before = seen.put(h.getHostName(), h.getState());
        if (before != null && before != h.getState()) {
          out.println("  " + h.getHostName() + ": " + Format.enumName(h.getState())
              + (h.getDetail().isEmpty() ? "" : " (" + h.getDetail() + ")"));
        }
      }
    }
    String line = summary(r);
    if (line.equals(lastLine)) {
      return;
    }
    lastLine = line;
    if (tty) {
      out.print("\r\033[K" + bar(r) + " " + line);
    } else {
      out.println(line);
    }
    out.flush();
  }

  private void end() {
    if (tty && !lastLine.isEmpty()) {
      out.println();
      out.flush();
    }
  }

  /** One line: state, batch, and hosts by where they are. */
  static String summary(Rollout r) {
    int healthy = count(r, RolloutHostState.ROLLOUT_HOST_STATE_HEALTHY);
    int updating = count(r, RolloutHostState.ROLLOUT_HOST_STATE_UPDATING);
    int failed = count(r, RolloutHostState.ROLLOUT_HOST_STATE_FAILED);
    int reverted = count(r, RolloutHostState.ROLLOUT_HOST_STATE_REVERTED);
    int pending = count(r, RolloutHostState.ROLLOUT_HOST_STATE_PENDING);
    long offline = r.getHostsList().stream()
        .filter(h -> h.getState() == RolloutHostState.ROLLOUT_HOST_STATE_PENDING && !h.getOnline()).count();
    return r.getDeployment() + " " + r.getPayload().getVersion() + ": " + Format.enumName(r.getState())
        + (r.getPaused() ? " (paused)" : "")
        + ", batch " + r.getBatch() + "/" + r.getBatches()
        + ", updated " + healthy + "/" + r.getHostsCount()
        + ", updating " + updating + ", failed " + failed
        + (reverted > 0 ? ", reverted " + reverted : "")
        + ", waiting " + pending + (offline > 0 ? " (" + offline + " offline)" : "");
  }

  private static String bar(Rollout r) {
    int width = 20;
    int total = Math.max(1, r.getHostsCount());
    int done = count(r, RolloutHostState.ROLLOUT_HOST_STATE_HEALTHY) * width / total;
    return "[" + "#".repeat(done) + "-".repeat(width - done) + "]";
  }

  private static int count(Rollout r, RolloutHostState state) {
    return (int) r.getHostsList().stream().filter(h -> h.getState() == state).count();
  }

  static boolean terminal(RolloutState state) {
    return state == RolloutState.ROLLOUT_STATE_SUCCEEDED || state == RolloutState.ROLLOUT_STATE_FAILED
        || state == RolloutState.ROLLOUT_STATE_REVERTED || state == RolloutState.ROLLOUT_STATE_SUPERSEDED;
  }

  /** What a failed rollout prints: why, and the incident that names it. */
  static void printFailure(Rollout r, PrintWriter err) {
    err.println("rollout of " + r.getDeployment() + " " + r.getPayload().getVersion() + " "
        + Format.enumName(r.getState()).toLowerCase() + ": " + r.getReason());
    if (!r.getIncidentId().isEmpty()) {
      err.println("incident " + r.getIncidentId() + " (infraveil ctl incidents show " + r.getIncidentId() + ")");
    }
    err.flush();
  }
}
