package io.infraveil.controlplane.secrets;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.infraveil.appconfig.SecretRef;
import io.infraveil.controlplane.MasterKey;
import io.infraveil.controlplane.deploy.Deployments;
import io.infraveil.controlplane.store.DeploymentStore;
import io.infraveil.controlplane.store.SecretStore;
import io.infraveil.controlplane.store.SecretStore.SecretRecord;
import io.infraveil.payload.seal.DataKeys;
import io.infraveil.payload.secret.SecretSeal;
import io.infraveil.proto.v1.SealedSecret;
import jakarta.inject.Singleton;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * Secrets of deployments: set (sealed at once, the plaintext dropped), listed by name and
 * version, deleted, and re-wrapped for a host that asks. A new value restarts the deployment
 * (a generation bump pushed with the desired state), so every placed host's agent fetches it
 * and restarts its services once. Values are never logged, returned to operators, or put in
 * history, Watch or a payload.
 */
@Singleton
public final class Secrets {

  /** What a set did. */
  public record SetResult(SecretRecord secret, boolean restarted) {}

  private final SecretStore store;
  private final DeploymentStore deploymentStore;
  private final Deployments deployments;
  private final MasterKey masterKey;
  private final SecureRandom random;
  private final Clock clock;

  public Secrets(SecretStore store, DeploymentStore deploymentStore, Deployments deployments,
      MasterKey masterKey, SecureRandom random, Clock clock) {
    this.store = store;
    this.deploymentStore = deploymentStore;
    this.deployments = deployments;
    this.masterKey = masterKey;
    this.random = random;
    this.clock = clock;
  }

  /** The master-key context under which a secret version's data key is sealed. */
  static String dataKeyContext(String binding) {
    return "secret-data-key:" + binding;
  }

  /**
   * Seals and stores a new version. The deployment need not exist yet (set secrets, then
   * deploy); when it does, it is restarted so hosts pick the value up.
   */
  public synchronized SetResult set(String deployment, String name, byte[] value, String setBy) {
    requireNames(deployment, name);
    if (value.length == 0) {
      throw Status.INVALID_ARGUMENT.withDescription("secret " + name + " of deployment "
          + deployment + " is empty: nothing was stored").asRuntimeException();
    }
    if (value.length > SecretSeal.MAX_VALUE_BYTES) {
      throw Status.INVALID_ARGUMENT.withDescription("secret " + name + " of deployment "
          + deployment + " is " + value.length + " bytes, over the limit of "
          + SecretSeal.MAX_VALUE_BYTES + ": nothing was stored").asRuntimeException();
    }
    long version = store.nextVersion(deployment, name);
    String binding = SecretSeal.binding(deployment, name, version);
    SecretKey dataKey = DataKeys.newDataKey(random);
    byte[] raw = dataKey.getEncoded();
    SecretRecord record;
    try {
      record = new SecretRecord(deployment, name, version,
          SecretSeal.sealValue(dataKey, value, binding, random),
          masterKey.seal(raw, dataKeyContext(binding)), setBy, clock.instant());
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
    store.upsert(record);
    boolean restarted = false;
    if (deploymentStore.find(deployment).isPresent()) {
      deployments.restart(deployment);
      restarted = true;
    }
    return new SetResult(record, restarted);
  }

  public List<SecretRecord> list(String deployment) {
    requireDeploymentName(deployment);
    return store.list(deployment);
  }

  /** Forgets a secret; services that still name it fail their next start, saying so. */
  public synchronized boolean delete(String deployment, String name) {
    requireNames(deployment, name);
    return store.delete(deployment, name);
  }

  /**
   * Every secret of {@code deployment}, its data key re-wrapped under {@code hostWrapKey}. The
   * caller has checked that the deployment is placed on that host.
   */
  public List<SealedSecret> sealedFor(byte[] hostWrapKey, String deployment) {
    List<SealedSecret> out = new ArrayList<>();
    for (SecretRecord record : store.list(deployment)) {
      String binding = SecretSeal.binding(deployment, record.name(), record.version());
      byte[] raw = masterKey.open(record.dataKeySealed(), dataKeyContext(binding));
      try {
        SecretKey dataKey = new SecretKeySpec(raw, "AES");
        out.add(SealedSecret.newBuilder()
            .setName(record.name())
            .setVersion(record.version())
            .setWrappedKey(ByteString.copyFrom(SecretSeal.wrapKey(hostWrapKey, dataKey, binding,
                random)))
            .setCiphertext(ByteString.copyFrom(record.valueSealed()))
            .build());
      } finally {
        Arrays.fill(raw, (byte) 0);
      }
    }
    return out;
  }

  private static void requireNames(String deployment, String name) {
    requireDeploymentName(deployment);
    if (name == null || !SecretRef.NAME.matcher(name).matches()) {
      throw Status.INVALID_ARGUMENT.withDescription("secret name \"" + name + "\" is invalid: use"
          + " lower-case letters, digits, '_' and '-', starting with a letter or digit, at most"
          + " 63").asRuntimeException();
    }
  }

  private static void requireDeploymentName(String deployment) {
    if (deployment == null || !deployment.matches("[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?")) {
      throw Status.INVALID_ARGUMENT.withDescription("deployment name \"" + deployment
          + "\" is invalid: use lower-case letters, digits and dashes, at most 64")
          .asRuntimeException();
    }
  }
}
