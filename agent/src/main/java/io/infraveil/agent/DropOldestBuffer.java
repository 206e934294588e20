package io.infraveil.agent;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A bounded FIFO that never blocks the producer: when full, the oldest element is dropped and
 * counted. Thread-safe.
 */
final class DropOldestBuffer<T> {

  private final int capacity;
  private final Object lock = new Object();
  /** Guarded by {@code lock}. */
  private final ArrayDeque<T> items = new ArrayDeque<>();
  /** Guarded by {@code lock}. */
  private long dropped;

  DropOldestBuffer(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
    }
    this.capacity = capacity;
  }

  /** Adds an item; returns true when an older item had to be dropped to make room. */
  boolean offer(T item) {
    synchronized (lock) {
      boolean drop = items.size() >= capacity;
      if (drop) {
        items.removeFirst();
        dropped++;
      }
      items.addLast(item);
      return drop;
    }
  }

  /** Removes and returns up to {@code max} items, oldest first. */
  List<T> drain(int max) {
    synchronized (lock) {
      List<T> out = new ArrayList<>(Math.min(max, items.size()));
      while (out.size() < max && !items.isEmpty()) {
        out.add(items.removeFirst());
      }
      return out;
    }
  }

  int size() {
    synchronized (lock) {
      return items.size();
    }
  }

  long dropped() {
    synchronized (lock) {
      return dropped;
    }
  }

  int capacity() {
    return capacity;
  }
}
