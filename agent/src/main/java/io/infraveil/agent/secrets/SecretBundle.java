package io.infraveil.agent.secrets;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.secret.SecretSeal;
import io.infraveil.proto.v1.FetchSecretsResponse;
import io.infraveil.proto.v1.SealedSecret;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A deployment's secrets opened with this host's wrap key, by name. Lives only in the agent's
 * memory; its text names secrets and versions, never values.
 */
public final class SecretBundle {

  /** One secret version's value. */
  public record Value(long version, byte[] bytes) {
    public Value {
      Objects.requireNonNull(bytes, "bytes");
    }

    @Override
    public String toString() {
      return "Value[version=" + version + ", " + bytes.length + " bytes]";
    }
  }

  private final Map<String, Value> byName;

  SecretBundle(Map<String, Value> byName) {
    this.byName = Collections.unmodifiableMap(new LinkedHashMap<>(byName));
  }

  /**
   * Opens every secret of {@code response}; a secret that does not open for {@code deployment}
   * with this host's key (tampered, meant for another host, deployment or version) refuses the
   * whole bundle.
   */
  public static SecretBundle open(FetchSecretsResponse response, String deployment,
      byte[] hostWrapKey) throws PayloadRejectedException {
    if (!response.getDeployment().equals(deployment)) {
      throw new IllegalArgumentException("secrets for deployment " + response.getDeployment()
          + " arrived for deployment " + deployment);
    }
    Map<String, Value> opened = new LinkedHashMap<>();
    for (SealedSecret sealed : response.getSecretsList()) {
      String binding = SecretSeal.binding(deployment, sealed.getName(), sealed.getVersion());
      byte[] value = SecretSeal.open(hostWrapKey, sealed.getWrappedKey().toByteArray(),
          sealed.getCiphertext().toByteArray(), binding);
      opened.put(sealed.getName(), new Value(sealed.getVersion(), value));
    }
    return new SecretBundle(opened);
  }

  public Optional<Value> get(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  @Override
  public String toString() {
    return byName.entrySet().stream().map(e -> e.getKey() + "@" + e.getValue().version())
        .collect(Collectors.joining(", ", "SecretBundle[", "]"));
  }
}
