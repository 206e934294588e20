package io.infraveil.controlplane.trace;

import jakarta.inject.Singleton;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** Recorded gRPC calls: a bounded ring of the latest and listeners that hear each one. */
@Singleton
public final class RequestTraces {

  /**
   * One finished call.
   *
   * @param host the calling host's name when the caller is a host, else empty
   * @param identity the caller's identity URI, empty for anonymous callers
   */
  public record Trace(Instant at, String traceId, String identity, String host, String method,
      String status, Duration latency, String peer) {
    public Trace {
      Objects.requireNonNull(at, "at");
      Objects.requireNonNull(traceId, "traceId");
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(status, "status");
      Objects.requireNonNull(latency, "latency");
      identity = identity == null ? "" : identity;
      host = host == null ? "" : host;
      peer = peer == null ? "" : peer;
    }

    /** The method without its package, for humans: {@code AgentReportService/Heartbeat}. */
    public String shortMethod() {
      int dot = method.lastIndexOf('.', Math.max(0, method.indexOf('/')));
      return dot < 0 ? method : method.substring(dot + 1);
    }
  }

  private static final int KEPT = 5_000;

  /** Guarded by itself. */
  private final Deque<Trace> recent = new ArrayDeque<>();
  private final List<Consumer<Trace>> listeners = new CopyOnWriteArrayList<>();

  public void record(Trace trace) {
    synchronized (recent) {
      recent.addLast(trace);
      while (recent.size() > KEPT) {
        recent.removeFirst();
      }
    }
    listeners.forEach(listener -> listener.accept(trace));
  }

  public void addListener(Consumer<Trace> listener) {
    listeners.add(listener);
  }

  public List<Trace> recent() {
    synchronized (recent) {
      return List.copyOf(recent);
    }
  }
}
