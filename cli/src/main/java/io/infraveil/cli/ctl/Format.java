package io.infraveil.cli.ctl;

import com.google.protobuf.ProtocolMessageEnum;
import com.google.protobuf.Timestamp;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.PublisherSignature;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** How protobuf values look in table output. */
final class Format {

  private Format() {}

  /** {@code HOST_CONNECTION_ONLINE} → {@code online}: the enum's own prefix is dropped. */
  static String enumName(ProtocolMessageEnum value) {
    String name = value.getValueDescriptor().getName();
    String unspecified = value.getDescriptorForType().getValues().get(0).getName();
    String prefix = unspecified.endsWith("UNSPECIFIED")
        ? unspecified.substring(0, unspecified.length() - "UNSPECIFIED".length()) : "";
    if (!prefix.isEmpty() && name.startsWith(prefix)) {
      name = name.substring(prefix.length());
    }
    return name.toLowerCase(Locale.ROOT);
  }

  /** ISO-8601 UTC to the second, or "-" when unset. */
  static String time(Timestamp timestamp) {
    if (timestamp.getSeconds() == 0 && timestamp.getNanos() == 0) {
      return "-";
    }
    return Instant.ofEpochSecond(timestamp.getSeconds()).toString();
  }

  /** {@code k=v,k2=v2}, sorted, or "-". */
  static String labels(Map<String, String> labels) {
    if (labels.isEmpty()) {
      return "-";
    }
    return new TreeMap<>(labels).entrySet().stream()
        .map(entry -> entry.getKey() + "=" + entry.getValue())
        .collect(Collectors.joining(","));
  }

  /** The version label and a short hash: {@code v2 (3f2a9c1b04de)}. */
  static String payload(PayloadRef payload) {
    if (payload.getSha256().isEmpty()) {
      return "-";
    }
    String hash = shortHash(payload.getSha256());
    return payload.getVersion().isEmpty() || payload.getVersion().equals(hash)
        ? hash : payload.getVersion() + " (" + hash + ")";
  }

  static String shortHash(String sha256) {
    return sha256.length() > 12 ? sha256.substring(0, 12) : sha256;
  }

  /**
   * Who signed: {@code release (key 3f2a9c1b04de...)} per signature, or "unsigned". The name is
   * what the signer called the key; hosts trust the key id only.
   */
  static String signers(List<PublisherSignature> signatures) {
    if (signatures.isEmpty()) {
      return "unsigned";
    }
    return signatures.stream()
        .map(s -> (s.getKeyName().isEmpty() ? "?" : s.getKeyName()) + " (key " + s.getKeyId() + ")")
        .collect(Collectors.joining(", "));
  }
}
