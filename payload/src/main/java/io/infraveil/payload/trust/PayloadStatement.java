package io.infraveil.payload.trust;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.infraveil.payload.Sha256Hex;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The bytes a MAC or a signature covers: what is claimed about a payload. Every variable-length
 * field is prefixed with its length so that no two different claims encode alike
 * ("ab" + "c" vs "a" + "bc"), and a context label keeps a MAC or signature from being
 * reused for another purpose:
 *
 * <pre>
 * u32 len(context) || context || u32 len(deployment) || deployment (UTF-8)
 *   || u64 sequence || u32 len(sha256Hex) || sha256Hex (ASCII)       all big-endian
 * </pre>
 */
final class PayloadStatement {

  private PayloadStatement() {}

  static byte[] encode(String context, String deployment, long sequence, String sha256Hex) {
    Objects.requireNonNull(context, "context");
    Objects.requireNonNull(deployment, "deployment");
    if (deployment.isEmpty()) {
      throw new IllegalArgumentException("deployment must not be empty");
    }
    if (sequence < 0) {
      throw new IllegalArgumentException("sequence must be >= 0, got " + sequence);
    }
    Sha256Hex.requireValid(sha256Hex, "sha256Hex");
    byte[] ctx = context.getBytes(US_ASCII);
    byte[] dep = deployment.getBytes(UTF_8);
    byte[] sha = sha256Hex.getBytes(US_ASCII);
    return ByteBuffer.allocate(4 + ctx.length + 4 + dep.length + 8 + 4 + sha.length)
        .putInt(ctx.length).put(ctx)
        .putInt(dep.length).put(dep)
        .putLong(sequence)
        .putInt(sha.length).put(sha)
        .array();
  }
}
