package io.infraveil.host.payload;

import com.google.protobuf.InvalidProtocolBufferException;
import io.infraveil.proto.v1.FetchHeader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds the header a cache entry holds for one (deployment, sequence): {@code header.pb} when
 * {@code header-<deployment>-<sequence>.pb} when present
 * (written later, so it wins), else {@code header.pb} when it names them. A header only selects what to
 * check; it is verified (MAC, key, records) before anything is trusted.
 */
final class EntryHeaders {

  private EntryHeaders() {}

  static Optional<FetchHeader> find(Path entryDir, String deployment, long sequence)
      throws IOException {
    Optional<FetchHeader> own = read(entryDir.resolve(CacheLayout.headerFileName(deployment,
        sequence)));
    if (own.isPresent()) {
      return own;
    }
    Optional<FetchHeader> main = read(entryDir.resolve(CacheLayout.HEADER));
    return main.filter(h -> h.getDeployment().equals(deployment)
        && h.getPayload().getSequence() == sequence);
  }

  /** The header in {@code file}; empty when missing or not a header (a torn or foreign file). */
  static Optional<FetchHeader> read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(FetchHeader.parseFrom(Files.readAllBytes(file)));
    } catch (InvalidProtocolBufferException e) {
      return Optional.empty();
    }
  }
}
