package io.infraveil.host.payload;

import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.infraveil.host.fs.AtomicFiles;
import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.Sha256Hex;
import io.infraveil.proto.v1.FetchHeader;
import io.infraveil.proto.v1.FetchRequest;
import io.infraveil.proto.v1.FetchResponse;
import io.infraveil.proto.v1.PayloadChunk;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.PayloadServiceGrpc;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Downloads a payload's ciphertext into {@code cache/.partial/<sha>.enc.part}, resuming from
 * the file's length. The header is checked (by the caller's function) before a byte is
 * written, and saved next to the partial file; a resumed download whose header describes
 * another seal (ciphertext size, record size or nonce prefix changed) starts over from 0. A
 * stream cut mid-way leaves the partial file for the next attempt. Trusts nothing it wrote:
 * the caller verifies the whole file afterwards.
 */
public final class PayloadFetcher {

  /** Per-fetch deadline and the write buffer bound. */
  public record Settings(Duration deadline, int bufferBytes) {
    public static final Settings DEFAULTS = new Settings(Duration.ofMinutes(10), 64 * 1024);

    public Settings {
      Objects.requireNonNull(deadline, "deadline");
      if (deadline.isNegative() || deadline.isZero()) {
        throw new IllegalArgumentException("deadline must be positive, got " + deadline);
      }
      if (bufferBytes < 512 || bufferBytes > 16 << 20) {
        throw new IllegalArgumentException(
            "bufferBytes must be between 512 and 16 MiB, got " + bufferBytes);
      }
    }
  }

  /** What a fetch produced; network and disk failures are {@link IOException}s instead. */
  public sealed interface FetchResult {
    /** The partial file holds exactly {@code header.ciphertext_size} bytes, not yet verified. */
    record Complete(FetchHeader header, long resumedFrom) implements FetchResult {}

    /** The header failed a check; nothing was written for this fetch. */
    record Refused(Verification verification) implements FetchResult {}
  }

  private final Channel channel;
  private final CacheLayout layout;
  private final CacheFiles files;
  private final Settings settings;

  public PayloadFetcher(Channel channel, CacheLayout layout, CacheFiles files, Settings settings) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.layout = Objects.requireNonNull(layout, "layout");
    this.files = Objects.requireNonNull(files, "files");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /**
   * Fetches (or finishes fetching) {@code desired}. {@code headerCheck} sees the header first
   * and may refuse it; a refusal returns {@link FetchResult.Refused} with the partial files
   * left for the caller to discard.
   */
  public FetchResult fetch(String deployment, PayloadRef desired,
      Function<FetchHeader, Verification> headerCheck) throws IOException {
    Objects.requireNonNull(deployment, "deployment");
    Objects.requireNonNull(headerCheck, "headerCheck");
    String sha = Sha256Hex.requireValid(desired.getSha256(), "desired.sha256");
    Path part = layout.partialCiphertext(sha);
    Path partHeader = layout.partialHeader(sha);
    Files.createDirectories(layout.partialDir());

    Optional<FetchHeader> saved = EntryHeaders.read(partHeader);
    long offset = Files.exists(part) ? Files.size(part) : 0;
    if (saved.isEmpty() || offset > saved.get().getCiphertextSize()) {
      // Bytes without a header (or more than it promised) cannot be resumed: start clean.
      discard(part, partHeader);
      saved = Optional.empty();
      offset = 0;
    }
    Attempt first = stream(deployment, sha, offset, saved, headerCheck);
    if (first.result != null) {
      return first.result;
    }
    discard(part, partHeader);
    Attempt again = stream(deployment, sha, 0, Optional.empty(), headerCheck);
    if (again.result == null) {
      throw new IllegalStateException("a fresh download cannot ask to restart");
    }
    return again.result;
  }

  /**
   * Fetches only the header ({@code offset == ciphertext_size}): for cached bytes that another
   * deployment or sequence now refers to.
   */
  public FetchHeader fetchHeader(String deployment, String sha256, long ciphertextSize)
      throws IOException {
    FetchRequest request = request(deployment, sha256, ciphertextSize);
    return call(() -> {
      Iterator<FetchResponse> responses = stub().fetch(request);
      FetchHeader header = readHeader(responses, request);
      if (responses.hasNext()) {
        throw new IOException("fetch of " + describe(request) + " at its end sent bytes after"
            + " the header; expected the header only");
      }
      return header;
    });
  }

  /** {@code result} null means "the saved partial belongs to another seal: start over". */
  private record Attempt(FetchResult result) {}

  private Attempt stream(String deployment, String sha, long offset, Optional<FetchHeader> saved,
      Function<FetchHeader, Verification> headerCheck) throws IOException {
    FetchRequest request = request(deployment, sha, offset);
    Path part = layout.partialCiphertext(sha);
    return call(() -> {
      Iterator<FetchResponse> responses = stub().fetch(request);
      FetchHeader header = readHeader(responses, request);
      if (!header.getDeployment().equals(deployment)
          || !header.getPayload().getSha256().equals(sha)) {
        return new Attempt(new FetchResult.Refused(Verification.of(new PayloadRejectedException(
            header.getDeployment().equals(deployment)
                ? RejectionReason.HASH_MISMATCH : RejectionReason.MAC_MISMATCH,
            "control plane answered " + describe(request) + " with a header for deployment '"
                + header.getDeployment() + "' sha256 " + header.getPayload().getSha256()))));
      }
      Verification verdict = headerCheck.apply(header);
      if (!verdict.isOk()) {
        return new Attempt(new FetchResult.Refused(verdict));
      }
      if (saved.isPresent() && !sameSeal(saved.get(), header)) {
        return new Attempt(null);
      }
      if (saved.isEmpty() || !saved.get().equals(header)) {
        AtomicFiles.write(layout.partialHeader(sha), header.toByteArray());
      }
      long size = header.getCiphertextSize();
      long position = offset;
      try (OutputStream out = new BufferedOutputStream(files.openForAppend(part),
          settings.bufferBytes())) {
        while (responses.hasNext()) {
          FetchResponse response = responses.next();
          if (!response.hasChunk()) {
            throw new IOException("fetch of " + describe(request) + " sent a second header");
          }
          PayloadChunk chunk = response.getChunk();
          if (chunk.getOffset() != position) {
            throw new IOException("fetch of " + describe(request) + " sent a chunk at offset "
                + chunk.getOffset() + ", expected " + position);
          }
          if (position + chunk.getData().size() > size) {
            throw new IOException("fetch of " + describe(request) + " sent more than the "
                + size + " ciphertext bytes its header names");
          }
          chunk.getData().writeTo(out);
          position += chunk.getData().size();
        }
      }
      if (position != size) {
        throw new IOException("fetch of " + describe(request) + " ended at byte " + position
            + " of " + size + "; the next attempt resumes there");
      }
      AtomicFiles.fsync(part);
      return new Attempt(new FetchResult.Complete(header, offset));
    });
  }

  private static boolean sameSeal(FetchHeader saved, FetchHeader fresh) {
    return saved.getCiphertextSize() == fresh.getCiphertextSize()
        && saved.getRecordSize() == fresh.getRecordSize()
        && saved.getNoncePrefix().equals(fresh.getNoncePrefix());
  }

  private static FetchHeader readHeader(Iterator<FetchResponse> responses, FetchRequest request)
      throws IOException {
    if (!responses.hasNext()) {
      throw new IOException("fetch of " + describe(request) + " ended before its header");
    }
    FetchResponse first = responses.next();
    if (!first.hasHeader()) {
      throw new IOException("fetch of " + describe(request) + " did not start with a header");
    }
    return first.getHeader();
  }

  private PayloadServiceGrpc.PayloadServiceBlockingStub stub() {
    return PayloadServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(settings.deadline().toNanos(), TimeUnit.NANOSECONDS);
  }

  private static FetchRequest request(String deployment, String sha, long offset) {
    return FetchRequest.newBuilder().setDeployment(deployment).setSha256(sha).setOffset(offset)
        .build();
  }

  private static String describe(FetchRequest request) {
    return "deployment '" + request.getDeployment() + "' sha256 " + request.getSha256()
        + " from offset " + request.getOffset();
  }

  private static void discard(Path part, Path partHeader) throws IOException {
    Files.deleteIfExists(part);
    Files.deleteIfExists(partHeader);
  }

  private interface Body<T> {
    T run() throws IOException;
  }

  /**
   * Runs a streaming call in a cancellable context, so that leaving the loop early (a refused
   * header, a restart, a local error) cancels the call instead of leaking it.
   */
  private static <T> T call(Body<T> body) throws IOException {
    Context.CancellableContext context = Context.current().withCancellation();
    Context previous = context.attach();
    try {
      return body.run();
    } catch (StatusRuntimeException e) {
      throw new IOException("payload fetch failed: " + e.getStatus().getCode() + " "
          + Objects.requireNonNullElse(e.getStatus().getDescription(), ""), e);
    } finally {
      context.detach(previous);
      context.cancel(null);
    }
  }
}
