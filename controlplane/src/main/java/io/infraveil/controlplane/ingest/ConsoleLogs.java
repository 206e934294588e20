package io.infraveil.controlplane.ingest;

import io.infraveil.proto.v1.LogLine;
import jakarta.inject.Singleton;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Console lines shipped by agents, kept per deployment in a bounded ring (the oldest go first)
 * and handed to followers as they arrive.
 */
@Singleton
public final class ConsoleLogs {

  /** A line with the host it came from. */
  public record HostLine(String host, String deployment, LogLine line) {}

  private static final int LINES_PER_DEPLOYMENT = 5_000;

  private final Map<String, Deque<HostLine>> byDeployment = new ConcurrentHashMap<>();
  private final List<Consumer<HostLine>> followers = new CopyOnWriteArrayList<>();
  private volatile long droppedByAgents;

  public void append(String host, String deployment, List<LogLine> lines, long droppedOnHost) {
    Deque<HostLine> ring = byDeployment.computeIfAbsent(deployment, key -> new ArrayDeque<>());
    List<HostLine> added = new ArrayList<>(lines.size());
    synchronized (ring) {
      for (LogLine line : lines) {
        HostLine hostLine = new HostLine(host, deployment, line);
        ring.addLast(hostLine);
        added.add(hostLine);
        while (ring.size() > LINES_PER_DEPLOYMENT) {
          ring.removeFirst();
        }
      }
    }
    droppedByAgents += droppedOnHost;
    added.forEach(line -> followers.forEach(follower -> follower.accept(line)));
  }

  /** The last {@code tail} lines of a deployment, optionally of one service, oldest first. */
  public List<HostLine> tail(String deployment, String service, int tail) {
    Deque<HostLine> ring = byDeployment.get(deployment);
    if (ring == null) {
      return List.of();
    }
    List<HostLine> matching;
    synchronized (ring) {
      matching = ring.stream()
          .filter(line -> service == null || service.isEmpty() || line.line().getService().equals(service))
          .toList();
    }
    return matching.subList(Math.max(0, matching.size() - tail), matching.size());
  }

  public Runnable follow(Consumer<HostLine> follower) {
    followers.add(follower);
    return () -> followers.remove(follower);
  }

  public long droppedByAgents() {
    return droppedByAgents;
  }
}
