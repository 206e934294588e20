package io.infraveil.agent;

import java.util.List;

/**
 * Console lines waiting to be shipped. Bounded; when full the oldest line is dropped and
 * counted, so a slow or absent control plane never blocks a service or the agent.
 */
public final class LogQueue {

  private final DropOldestBuffer<LogLine> buffer;

  public LogQueue(int capacity) {
    this.buffer = new DropOldestBuffer<>(capacity);
  }

  public void offer(LogLine line) {
    buffer.offer(line);
  }

  /** Removes and returns up to {@code max} lines, oldest first. */
  public List<LogLine> drain(int max) {
    return buffer.drain(max);
  }

  public int size() {
    return buffer.size();
  }

  public int capacity() {
    return buffer.capacity();
  }

  /** Lines dropped since the agent started because the queue was full. */
  public long dropped() {
    return buffer.dropped();
  }
}
