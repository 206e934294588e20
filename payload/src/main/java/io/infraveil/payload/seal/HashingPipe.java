package io.infraveil.payload.seal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Hashes and writes opened records on a thread of its own while the caller decrypts the next
 * ones, so AES-GCM and SHA-256 run on two cores at once. Chunks (one or more whole records)
 * are hashed and written in the order submitted; buffers go round a small ring, so nothing is
 * copied. A failure of the
 * writer reaches the caller at its next {@link #buffer()} or at {@link #finish()}.
 */
final class HashingPipe implements AutoCloseable {

  /** Chunks in flight: enough to ride out a hiccup of either side. */
  private static final int DEPTH = 4;
  private static final Chunk END = new Chunk(new byte[0], 0);

  private record Chunk(byte[] bytes, int length) {}

  private final MessageDigest digest;
  private final OutputStream out;
  private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(DEPTH);
  private final BlockingQueue<Chunk> filled = new ArrayBlockingQueue<>(DEPTH + 1);
  private final Thread worker;
  private volatile Throwable failure;
  private boolean finished;

  HashingPipe(MessageDigest digest, OutputStream out, int bufferSize) {
    this.digest = digest;
    this.out = out;
    for (int i = 0; i < DEPTH; i++) {
      free.add(new byte[bufferSize]);
    }
    this.worker = new Thread(this::run, "payload-hash");
    worker.setDaemon(true);
    worker.start();
  }

  /** A buffer to decrypt the next records into. */
  byte[] buffer() throws IOException {
    while (true) {
      rethrow();
      try {
        byte[] buffer = free.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
        if (buffer != null) {
          return buffer;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while opening a payload");
      }
    }
  }

  /** Hands over {@code length} opened bytes of {@code buffer}, to be hashed and written. */
  void submit(byte[] buffer, int length) throws IOException {
    put(new Chunk(buffer, length));
  }

  /** Waits for every record handed over, then returns the digest. */
  byte[] finish() throws IOException {
    put(END);
    finished = true;
    try {
      worker.join();
    } catch (InterruptedException e) {
      worker.interrupt();
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while opening a payload");
    }
    rethrow();
    return digest.digest();
  }

  /**
   * Stops the worker when the open failed half-way and waits for it, so nothing is written
   * after the open has returned (a record being written when it stops is finished first).
   */
  @Override
  public void close() {
    if (finished) {
      return;
    }
    worker.interrupt();
    boolean interrupted = false;
    while (worker.isAlive()) {
      try {
        worker.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void put(Chunk chunk) throws IOException {
    try {
      filled.put(chunk);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while opening a payload");
    }
  }

  private void rethrow() throws IOException {
    Throwable t = failure;
    if (t instanceof IOException io) {
      throw io;
    }
    if (t != null) {
      throw new UncheckedIOException(new IOException("hashing the payload failed", t));
    }
  }

  private void run() {
    try {
      while (true) {
        Chunk chunk = filled.take();
        if (chunk == END) {
          return;
        }
        digest.update(chunk.bytes(), 0, chunk.length());
        out.write(chunk.bytes(), 0, chunk.length());
        free.put(chunk.bytes());
      }
    } catch (InterruptedException e) {
      // the open failed or was abandoned: stop
    } catch (IOException | RuntimeException e) {
      failure = e;
    }
  }
}
