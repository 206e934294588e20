package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class LogQueueTest {

  private static LogLine line(long seq) {
    return new LogLine(Instant.EPOCH, "api", 0, LogLine.Stream.STDOUT, "line " + seq, seq);
  }

  // When full the oldest line goes, the newest stays, and every drop is counted.
  @Test
  void dropsOldestWhenFullAndCounts() {
    LogQueue queue = new LogQueue(3);
    for (long i = 1; i <= 5; i++) {
      queue.offer(line(i));
    }
    assertEquals(3, queue.size());
    assertEquals(2, queue.dropped());
    assertEquals(List.of(3L, 4L), queue.drain(2).stream().map(LogLine::sequence).toList());
    assertEquals(List.of(5L), queue.drain(10).stream().map(LogLine::sequence).toList());
    assertEquals(0, queue.size());
    assertEquals(2, queue.dropped());
  }
}
