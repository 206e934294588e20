package io.infraveil.agent.main;

import io.infraveil.host.fs.JsonFiles;
import io.infraveil.proto.v1.PayloadRef;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code <agentDir>/payloads.json}: the full reference (size, sequence, version) of every
 * version this agent was asked to run, so a rollback can extract an older version from the
 * cache and heartbeats name it fully, without the control plane. Written atomically, only when
 * it changes.
 */
final class KnownPayloads {

  static final String FILE = "payloads.json";

  /** The file's content. */
  record Content(int formatVersion, Map<String, AgentDesired.Payload> payloads) {
    Content {
      payloads = payloads == null ? Map.of() : Map.copyOf(payloads);
    }
  }

  private final Path file;
  private final Object lock = new Object();
  /** Guarded by {@code lock}. */
  private final Map<String, AgentDesired.Payload> payloads = new LinkedHashMap<>();

  KnownPayloads(Path agentDir) throws IOException {
    this.file = Objects.requireNonNull(agentDir, "agentDir").resolve(FILE);
    JsonFiles.read(file, Content.class).ifPresent(c -> payloads.putAll(c.payloads()));
  }

  void remember(AgentDesired.Payload payload) throws IOException {
    synchronized (lock) {
      payloads.put(payload.sha256(), payload);
      JsonFiles.write(file, new Content(1, payloads));
    }
  }

  Optional<PayloadRef> get(String sha256) {
    synchronized (lock) {
      return Optional.ofNullable(payloads.get(sha256)).map(AgentDesired.Payload::toProto);
    }
  }

  Map<String, PayloadRef> all() {
    synchronized (lock) {
      Map<String, PayloadRef> out = new LinkedHashMap<>();
      payloads.forEach((sha, p) -> out.put(sha, p.toProto()));
      return out;
    }
  }
}
