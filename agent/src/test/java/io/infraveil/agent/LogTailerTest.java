package io.infraveil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.host.time.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogTailerTest {

  @TempDir Path dir;
  private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));

  private static void append(Path file, String text) throws Exception {
    Files.writeString(file, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private static List<String> texts(LogQueue queue) {
    return queue.drain(Integer.MAX_VALUE).stream().map(LogLine::text).toList();
  }

  // Only complete lines are queued; a partial line waits for its newline.
  @Test
  void readsCompleteLinesAndKeepsPartial() throws Exception {
    Path file = dir.resolve("api-1.out.log");
    LogQueue queue = new LogQueue(100);
    LogTailer tailer = new LogTailer(queue, clock);
    tailer.follow(file, "api", 1, LogLine.Stream.STDOUT);
    append(file, "one\ntw");
    assertEquals(1, tailer.poll());
    append(file, "o\nthree\n");
    assertEquals(2, tailer.poll());
    List<LogLine> lines = queue.drain(10);
    assertEquals(List.of("one", "two", "three"), lines.stream().map(LogLine::text).toList());
    assertEquals(List.of(1L, 2L, 3L), lines.stream().map(LogLine::sequence).toList());
    assertEquals("api", lines.get(0).service());
    assertEquals(1, lines.get(0).clusterIndex());
    assertEquals(LogLine.Stream.STDOUT, lines.get(0).stream());
    assertEquals(0, tailer.poll());
  }

  // Content present before following is not re-shipped.
  @Test
  void startsAtEndOfExistingFile() throws Exception {
    Path file = dir.resolve("x.log");
    append(file, "old\n");
    LogQueue queue = new LogQueue(100);
    LogTailer tailer = new LogTailer(queue, clock);
    tailer.follow(file, "api", 0, LogLine.Stream.STDERR);
    append(file, "new\n");
    tailer.poll();
    assertEquals(List.of("new"), texts(queue));
  }

  // Rotation by copy-and-truncate keeps every line: in the .1 copy and in the tailer's output.
  @Test
  void rotationKeepsLines() throws Exception {
    Path file = dir.resolve("api-0.out.log");
    LogQueue queue = new LogQueue(100);
    LogTailer tailer = new LogTailer(queue, clock);
    tailer.follow(file, "api", 0, LogLine.Stream.STDOUT);
    LogRotator rotator = new LogRotator(10, 2);
    append(file, "aaaa\nbbbb\n"); // 10 bytes: not over the limit
    assertFalse(rotator.rotateIfNeeded(file));
    append(file, "cccc\n");
    tailer.poll();
    assertTrue(rotator.rotateIfNeeded(file));
    assertEquals(0, Files.size(file));
    assertEquals("aaaa\nbbbb\ncccc\n", Files.readString(LogRotator.numbered(file, 1)));
    append(file, "dd\n");
    tailer.poll();
    assertEquals(List.of("aaaa", "bbbb", "cccc", "dd"), texts(queue));
    // two more rotations: keep=2 holds only the newest two copies
    append(file, "eeeeeeeeeeee\n");
    assertTrue(rotator.rotateIfNeeded(file));
    append(file, "ffffffffffff\n");
    assertTrue(rotator.rotateIfNeeded(file));
    assertEquals("ffffffffffff\n", Files.readString(LogRotator.numbered(file, 1)));
    assertEquals("dd\neeeeeeeeeeee\n", Files.readString(LogRotator.numbered(file, 2)));
    assertFalse(Files.exists(LogRotator.numbered(file, 3)));
  }

  // A tailer feeding a full queue drops the oldest lines and counts them; it never blocks.
  @Test
  void fullQueueDropsOldest() throws Exception {
    Path file = dir.resolve("api-0.err.log");
    LogQueue queue = new LogQueue(2);
    LogTailer tailer = new LogTailer(queue, clock);
    tailer.follow(file, "api", 0, LogLine.Stream.STDERR);
    append(file, "1\n2\n3\n4\n5\n");
    assertEquals(5, tailer.poll());
    assertEquals(3, queue.dropped());
    assertEquals(List.of("4", "5"), texts(queue));
  }
}
