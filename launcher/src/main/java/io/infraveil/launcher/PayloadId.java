package io.infraveil.launcher;

import io.infraveil.proto.v1.PayloadRef;
import java.util.Objects;

/** One payload version as the launcher stores it on disk: {sha256, size, sequence, version}. */
public record PayloadId(String sha256, long size, long sequence, String version) {

  public PayloadId {
    Objects.requireNonNull(sha256, "sha256");
    if (!sha256.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("payload sha256 must be 64 lower-case hex digits, got \""
          + sha256 + "\"");
    }
    if (size < 0) {
      throw new IllegalArgumentException("payload size must be >= 0, got " + size);
    }
    version = version == null ? "" : version;
  }

  public static PayloadId of(PayloadRef ref) {
    return new PayloadId(ref.getSha256(), ref.getSize(), ref.getSequence(), ref.getVersion());
  }

  public PayloadRef toProto() {
    return PayloadRef.newBuilder().setSha256(sha256).setSize(size).setSequence(sequence)
        .setVersion(version).build();
  }
}
