package io.infraveil.controlplane.store;

import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Payloads: metadata in {@code payloads}, ciphertext in {@code payload_chunks} (V11), rows of
 * {@link #CHUNK_BYTES} written as it is sealed and read one at a time, so no payload is ever
 * whole in memory. A payload's chunks and its row commit in one transaction.
 */
@Singleton
public final class PayloadStore {

  /** The ciphertext bytes of every chunk row but the last. */
  public static final int CHUNK_BYTES = 1 << 20;

  /** Writes a payload's ciphertext to {@code out} and returns its record. */
  @FunctionalInterface
  public interface CiphertextWriter {
    PayloadRecord write(OutputStream out) throws IOException;
  }

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
    jdbc.update("store payload " + payload.sha256(), INSERT, s -> bindRow(s, payload));
    return true;
  }

  /**
   * Stores a payload's ciphertext, as {@code writer} produces it, and then its row, in one
   * transaction; false (nothing written) when the content is stored already. Two uploads of one
   * content racing on two control planes: one commits, the other fails on the primary key.
   */
  public boolean insertWithCiphertext(String sha256, CiphertextWriter writer) throws IOException {
    if (find(sha256).isPresent()) {
      return false;
    }
    try {
      return jdbc.inTransaction("store payload " + sha256, c -> {
        PayloadRecord payload;
        try (ChunkOutputStream out = new ChunkOutputStream(c, sha256)) {
          payload = writer.write(out);
          out.finish();
          if (out.written() != payload.ciphertextSize()) {
            throw new IllegalStateException("payload " + sha256 + ": " + out.written()
                + " ciphertext bytes written, but its record says " + payload.ciphertextSize());
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        insertRow(c, payload);
        return true;
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /**
   * Replaces the ciphertext of a stored payload with {@code in}'s bytes (a data dir's payload
   * file imported at start); returns the number of bytes stored.
   */
  public long replaceCiphertext(String sha256, InputStream in) throws IOException {
    try {
      return jdbc.inTransaction("import the ciphertext of payload " + sha256, c -> {
        try (PreparedStatement delete = c.prepareStatement("DELETE FROM payload_chunks WHERE sha256 = ?")) {
          delete.setString(1, sha256);
          delete.executeUpdate();
        }
        try (ChunkOutputStream out = new ChunkOutputStream(c, sha256)) {
          in.transferTo(out);
          out.finish();
          return out.written();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** One chunk of a payload's ciphertext (bytes from {@code index * CHUNK_BYTES}), if stored. */
  public Optional<byte[]> chunk(String sha256, int index) {
    return jdbc.queryOne("read chunk " + index + " of payload " + sha256,
        "SELECT bytes FROM payload_chunks WHERE sha256 = ? AND chunk_index = ?", s -> {
          s.setString(1, sha256);
          s.setInt(2, index);
        }, r -> r.getBytes(1));
  }

  /** The ciphertext bytes stored for a payload (0 when none). */
  public long storedCiphertextBytes(String sha256) {
    return jdbc.queryOne("measure the ciphertext of payload " + sha256,
        "SELECT COALESCE(SUM(OCTET_LENGTH(bytes)), 0) FROM payload_chunks WHERE sha256 = ?",
        s -> s.setString(1, sha256), r -> r.getLong(1)).orElse(0L);
  }

  private static void insertRow(Connection c, PayloadRecord payload) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(INSERT)) {
      bindRow(s, payload);
      s.executeUpdate();
    }
  }

  private static final String INSERT = "INSERT INTO payloads (sha256, plaintext_size, ciphertext_size,"
      + " record_size, nonce_prefix, data_key_sealed, version_label, services, uploaded_by, uploaded_at)"
      + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  private static void bindRow(PreparedStatement s, PayloadRecord payload) throws SQLException {
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
  }

  /** Buffers one chunk and inserts it as a row when full (and the last one on finish). */
  private static final class ChunkOutputStream extends OutputStream {
    private final PreparedStatement insert;
    private final String sha256;
    private final byte[] buffer = new byte[CHUNK_BYTES];
    private int filled;
    private int index;
    private long written;

    ChunkOutputStream(Connection c, String sha256) throws SQLException {
      this.insert = c.prepareStatement(
          "INSERT INTO payload_chunks (sha256, chunk_index, bytes) VALUES (?, ?, ?)");
      this.sha256 = sha256;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      while (length > 0) {
        int n = Math.min(length, CHUNK_BYTES - filled);
        System.arraycopy(bytes, offset, buffer, filled, n);
        filled += n;
        offset += n;
        length -= n;
        if (filled == CHUNK_BYTES) {
          finish();
        }
      }
    }

    /**
     * Stores what is buffered as a row. Only a full chunk, or the last one: a reader finds byte
     * N in chunk N / CHUNK_BYTES, so {@link #flush()} (which writers call as they like) does not.
     */
    void finish() throws IOException {
      if (filled == 0) {
        return;
      }
      try {
        insert.setString(1, sha256);
        insert.setInt(2, index);
        insert.setBytes(3, filled == CHUNK_BYTES ? buffer : java.util.Arrays.copyOf(buffer, filled));
        insert.executeUpdate();
      } catch (SQLException e) {
        throw new IOException("cannot store chunk " + index + " of payload " + sha256 + ": " + e.getMessage(), e);
      }
      written += filled;
      index++;
      filled = 0;
    }

    long written() {
      return written;
    }

    @Override
    public void close() throws IOException {
      try {
        insert.close();
      } catch (SQLException e) {
        throw new IOException(e);
      }
    }
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
