package io.infraveil.controlplane.store;

import jakarta.inject.Singleton;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** Payload metadata; the ciphertext itself lives in the data dir under its hash. */
@Singleton
public final class PayloadStore {

  /** One stored payload. The data key is sealed with the master key. */
  public record PayloadRecord(String sha256, long plaintextSize, long ciphertextSize, int recordSize,
      byte[] noncePrefix, byte[] dataKeySealed, String versionLabel, List<String> services,
      String uploadedBy, Instant uploadedAt) {}

  private final Jdbc jdbc;

  public PayloadStore(Jdbc jdbc) {
    this.jdbc = jdbc;
  }

  /** Inserts unless the same content is already stored; true if inserted. */
  public boolean insertIfAbsent(PayloadRecord payload) {
    if (find(payload.sha256()).isPresent()) {
      return false;
    }
    jdbc.update("store payload " + payload.sha256(),
        "INSERT INTO payloads (sha256, plaintext_size, ciphertext_size, record_size, nonce_prefix,"
            + " data_key_sealed, version_label, services, uploaded_by, uploaded_at)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        s -> {
          s.setString(1, payload.sha256());
          s.setLong(2, payload.plaintextSize());
          s.setLong(3, payload.ciphertextSize());
          s.setInt(4, payload.recordSize());
          s.setBytes(5, payload.noncePrefix());
          s.setBytes(6, payload.dataKeySealed());
          s.setString(7, payload.versionLabel());
          s.setString(8, String.join(",", payload.services()));
          s.setString(9, payload.uploadedBy());
          s.setTimestamp(10, Timestamp.from(payload.uploadedAt()));
        });
    return true;
  }

  public Optional<PayloadRecord> find(String sha256) {
    return jdbc.queryOne("read payload " + sha256, "SELECT * FROM payloads WHERE sha256 = ?",
        s -> s.setString(1, sha256), PayloadStore::read);
  }

  private static PayloadRecord read(ResultSet r) throws SQLException {
    String services = r.getString("services");
    return new PayloadRecord(r.getString("sha256"), r.getLong("plaintext_size"),
        r.getLong("ciphertext_size"), r.getInt("record_size"), r.getBytes("nonce_prefix"),
        r.getBytes("data_key_sealed"), r.getString("version_label"),
        services.isEmpty() ? List.of() : Arrays.asList(services.split(",")),
        r.getString("uploaded_by"), r.getTimestamp("uploaded_at").toInstant());
  }
}
