package io.infraveil.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Reads new complete lines from service log files into a {@link LogQueue}. Remembers an offset
 * per file; a file shorter than its offset was truncated (rotated) and is read again from the
 * start. A partial last line waits for its newline (up to {@link #MAX_LINE} bytes). Not
 * thread-safe: polled by one owner.
 */
public final class LogTailer {

  /** A line longer than this is cut and shipped in pieces. */
  static final int MAX_LINE = 16 * 1024;
  private static final int CHUNK = 64 * 1024;

  private final LogQueue queue;
  private final Clock clock;
  private final Map<Path, Tail> tails = new LinkedHashMap<>();
  private long sequence;

  public LogTailer(LogQueue queue, Clock clock) {
    this.queue = Objects.requireNonNull(queue, "queue");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Follows {@code file} from its current end (what is already there was read before, or
   * predates this agent); a missing file is followed from its start once it appears.
   */
  public void follow(Path file, String service, int clusterIndex, LogLine.Stream stream)
      throws IOException {
    if (tails.containsKey(file)) {
      return;
    }
    long offset = Files.exists(file) ? Files.size(file) : 0;
    tails.put(file, new Tail(service, clusterIndex, stream, offset));
  }

  public void forget(Path file) {
    tails.remove(file);
  }

  /** Reads what is new in every followed file; returns the number of lines queued. */
  public int poll() {
    int lines = 0;
    for (Map.Entry<Path, Tail> entry : tails.entrySet()) {
      try {
        lines += read(entry.getKey(), entry.getValue());
      } catch (IOException e) {
        // A file deleted or unreadable for a moment: try again on the next poll.
      }
    }
    return lines;
  }

  private int read(Path file, Tail tail) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    int lines = 0;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      if (size < tail.offset) {
        tail.offset = 0; // truncated by rotation
        tail.partial.reset();
      }
      ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
      while (tail.offset < size) {
        buffer.clear();
        int n = channel.read(buffer, tail.offset);
        if (n <= 0) {
          break;
        }
        tail.offset += n;
        for (int i = 0; i < n; i++) {
          byte b = buffer.get(i);
          if (b == '\n') {
            emit(tail);
            lines++;
          } else {
            tail.partial.write(b);
            if (tail.partial.size() >= MAX_LINE) {
              emit(tail);
              lines++;
            }
          }
        }
      }
    }
    return lines;
  }

  private void emit(Tail tail) {
    String text = tail.partial.toString(StandardCharsets.UTF_8);
    if (text.endsWith("\r")) {
      text = text.substring(0, text.length() - 1);
    }
    tail.partial.reset();
    queue.offer(new LogLine(clock.instant(), tail.service, tail.clusterIndex, tail.stream, text,
        ++sequence));
  }

  private static final class Tail {
    final String service;
    final int clusterIndex;
    final LogLine.Stream stream;
    long offset;
    final ByteArrayOutputStream partial = new ByteArrayOutputStream();

    Tail(String service, int clusterIndex, LogLine.Stream stream, long offset) {
      this.service = service;
      this.clusterIndex = clusterIndex;
      this.stream = stream;
      this.offset = offset;
    }
  }
}
