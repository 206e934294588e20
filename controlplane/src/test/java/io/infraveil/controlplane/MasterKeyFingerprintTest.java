package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.enroll.Enrollment;
import io.infraveil.controlplane.payloads.PayloadIntake;
import io.infraveil.controlplane.secrets.Secrets;
import io.infraveil.controlplane.store.PayloadStore;
import io.infraveil.payload.trust.HostKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The master key is shared by every control plane of an installation, never stored in the
 * database: one given another key refuses to start naming both fingerprints, and a rotation
 * re-seals every data key and host secret so that everything stays readable with the new key alone.
 */
class MasterKeyFingerprintTest {

  @TempDir
  Path dir;

  /** The database the control planes use (none: H2 in the data dir). */
  Map<String, Object> database() throws Exception {
    return Map.of();
  }

  private Map<String, Object> with(String key, Object value) throws Exception {
    Map<String, Object> out = new HashMap<>(database());
    out.put(key, value);
    return out;
  }

  // A second control plane (here: the same data, started again) given a different key file is
  // refused before it serves, naming both fingerprints; the database is left as it was.
  @Test
  void aControlPlaneWithAnotherKeyRefusesToStartNamingBothFingerprints() throws Exception {
    String first;
    try (OpsHarness harness = new OpsHarness(dir, database())) {
      first = harness.controlPlane.bean(MasterKey.class).fingerprint();
    }
    Path other = keyFile("other.key");

    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> ControlPlane.start(
        dir.resolve("data"), dir.resolve("pki"), 0, with("infraveil.master-key-file", other.toString())));

    String message = rootMessage(refused);
    assertTrue(message.contains("the master key " + other + " (fingerprint "), message);
    assertTrue(message.contains("is not the key this database's secrets are sealed with (fingerprint "
        + first.substring(0, 16) + ")"), message);
    assertTrue(message.contains("give every control plane of one installation the same key file"), message);
    try (ControlPlane again = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0, database())) {
      assertFalse(again.bean(MasterKeyFingerprint.class).verify().recorded(), "the first key is still the one");
    }
  }

  // Rotation: started with the new key and the old one as rotation key, the control plane
  // re-seals the payload's data key, the host secret and the secret's data key at once; started
  // with the new key alone afterwards, each of them opens to what it was, and the old key is refused.
  @Test
  void rotationKeepsEveryPayloadHostSecretAndSecretReadable() throws Exception {
    String sha;
    byte[] hostSecret;
    byte[] dataKey;
    Path oldKey = dir.resolve("data/master.key");
    try (OpsHarness harness = new OpsHarness(dir, database())) {
      harness.enroll("web-1");
      sha = harness.deploy("web", "v1", "web-1");
      harness.controlPlane.bean(Secrets.class).set("web", "token", "s3cret".getBytes(StandardCharsets.UTF_8), "alice");
      hostSecret = harness.controlPlane.bean(Enrollment.class).hostSecret("web-1");
      dataKey = dataKey(harness.controlPlane, sha);
    }
    Path newKey = keyFile("new.key");
    Map<String, Object> rotating = with("infraveil.master-key-file", newKey.toString());
    rotating.put("infraveil.master-key-rotation-file", oldKey.toString());
    try (ControlPlane during = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0, rotating)) {
      MasterKeyFingerprint.Outcome again = during.bean(MasterKeyFingerprint.class).verify();
      assertEquals(new MasterKeyFingerprint.Outcome(false, 0), again, "the start re-sealed everything already");
    }

    try (ControlPlane after = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0,
        with("infraveil.master-key-file", newKey.toString()))) {
      assertTrue(after.bean(MasterKey.class).rotationFingerprint().isEmpty());
      assertArrayEquals(hostSecret, after.bean(Enrollment.class).hostSecret("web-1"));
      assertArrayEquals(dataKey, dataKey(after, sha));
      var sealed = after.bean(Secrets.class).sealedFor(HostKeys.fromSecret(hostSecret).wrapKey(), "web");
      assertEquals(1, sealed.size());
      assertEquals("token", sealed.get(0).getName());
    }
    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> ControlPlane.start(
        dir.resolve("data"), dir.resolve("pki"), 0, with("infraveil.master-key-file", oldKey.toString())));
    assertTrue(rootMessage(refused).contains("is not the key this database's secrets are sealed with"),
        rootMessage(refused));
  }

  // The re-seal counts what it changed: three values sealed by the old key, none by the new.
  @Test
  void theRotatingStartResealsEachValueOnce() throws Exception {
    Path oldKey = dir.resolve("data/master.key");
    try (OpsHarness harness = new OpsHarness(dir, database())) {
      harness.enroll("web-1");
      harness.deploy("web", "v1", "web-1");
      harness.controlPlane.bean(Secrets.class).set("web", "token", new byte[] {1}, "alice");
    }
    Path newKey = keyFile("new.key");
    MasterKey rotating = new MasterKey(new ControlPlaneSettings(dir.resolve("data"), dir.resolve("pki"),
        "controlplane", java.time.Duration.ofDays(7), java.time.Duration.ofHours(1)), new SecureRandom(),
        newKey.toString(), oldKey.toString());
    org.h2.jdbcx.JdbcDataSource db = new org.h2.jdbcx.JdbcDataSource();
    db.setURL("jdbc:h2:file:" + dir.resolve("data/controlplane").toAbsolutePath());
    db.setUser("sa");
    var fingerprint = new MasterKeyFingerprint(new io.infraveil.controlplane.store.Jdbc(db), rotating,
        java.time.Clock.systemUTC());

    assertEquals(new MasterKeyFingerprint.Outcome(true, 3), fingerprint.verify());
    assertEquals(new MasterKeyFingerprint.Outcome(false, 0), fingerprint.verify());
  }

  private static byte[] dataKey(ControlPlane controlPlane, String sha) {
    PayloadStore.PayloadRecord record = controlPlane.bean(PayloadStore.class).find(sha).orElseThrow();
    return controlPlane.bean(MasterKey.class).open(record.dataKeySealed(), PayloadIntake.dataKeyContext(sha));
  }

  private Path keyFile(String name) throws Exception {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return Files.write(dir.resolve(name), key);
  }

  private static String rootMessage(Throwable t) {
    StringBuilder all = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      all.append(c.getMessage()).append('\n');
    }
    return all.toString();
  }
}
