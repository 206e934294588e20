package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.controlplane.store.PayloadStore;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.payload.seal.KeyWrap;
import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.seal.RecordOpener;
import io.infraveil.payload.trust.HostKeys;
import io.infraveil.proto.v1.FetchHeader;
import io.infraveil.proto.v1.FetchRequest;
import io.infraveil.proto.v1.FetchResponse;
import io.infraveil.proto.v1.PayloadServiceGrpc;
import io.infraveil.proto.v1.PutDeploymentRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Payload ciphertext lives in the database's chunk rows: served whole and from any offset across
 * rows, refused by the host when a row is tampered with, and imported from an older release's
 * payload files at start.
 */
class PayloadRowsTest {

  @TempDir
  Path dir;

  private OpsHarness harness;

  @AfterEach
  void stop() throws Exception {
    if (harness != null) {
      harness.close();
    }
  }

  // A 3 MiB incompressible payload spans several 1 MiB rows; a fetch from inside the second row
  // returns exactly the bytes from there on, and the whole ciphertext opens to the upload.
  @Test
  void aPayloadOverSeveralRowsIsServedWholeAndFromAnOffsetInsideARow() throws Exception {
    harness = new OpsHarness(dir, Map.of());
    var host = harness.enroll("web-1");
    String sha = uploadAndDeploy(3 << 20);

    List<Integer> rowSizes = rowSizes(harness.controlPlane.bean(DataSource.class), sha);
    assertTrue(rowSizes.size() >= 3, "rows: " + rowSizes);
    for (int i = 0; i < rowSizes.size() - 1; i++) {
      assertEquals(PayloadStore.CHUNK_BYTES, rowSizes.get(i), "every row but the last is full: " + rowSizes);
    }
    Fetched whole = fetch(host, 0);
    assertEquals(whole.header().getCiphertextSize(), whole.ciphertext().length);
    assertEquals(rowSizes.stream().mapToLong(Integer::longValue).sum(), whole.ciphertext().length);
    assertEquals(sha, open(host, whole));

    long offset = PayloadStore.CHUNK_BYTES + 12_345L;
    Fetched tail = fetch(host, offset);
    assertArrayEquals(java.util.Arrays.copyOfRange(whole.ciphertext(), (int) offset, whole.ciphertext().length),
        tail.ciphertext());
  }

  // One flipped bit in a stored row: the control plane serves it, the host's check refuses it.
  // A row missing at the end: the fetch fails naming where the ciphertext ends.
  @Test
  void tamperedRowsAreRefused() throws Exception {
    harness = new OpsHarness(dir, Map.of());
    var host = harness.enroll("web-1");
    String sha = uploadAndDeploy(2 << 20);
    DataSource db = harness.controlPlane.bean(DataSource.class);

    try (Connection c = db.getConnection()) {
      flipBit(c, sha, 1, 4_000);
    }
    Fetched corrupted = fetch(host, 0);
    PayloadRejectedException refused = assertThrows(PayloadRejectedException.class, () -> open(host, corrupted));
    assertTrue(refused.getMessage() != null && !refused.getMessage().isEmpty());

    try (Connection c = db.getConnection(); PreparedStatement s = c.prepareStatement(
        "DELETE FROM payload_chunks WHERE sha256 = ? AND chunk_index = 2")) {
      s.setString(1, sha);
      assertEquals(1, s.executeUpdate());
    }
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> fetch(host, 0));
    assertEquals(Status.Code.INTERNAL, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("ciphertext ends early at " + 2 * PayloadStore.CHUNK_BYTES),
        error.getStatus().getDescription());
  }

  // Upgrade path: a data dir whose ciphertext is in payloads/<sha>.enc (the older layout, rows
  // without chunks) is imported into the database at start, once, byte for byte, and the files go.
  @Test
  void payloadFilesOfAnOlderReleaseAreImportedAtStart() throws Exception {
    harness = new OpsHarness(dir, Map.of());
    var host = harness.enroll("web-1");
    String sha = uploadAndDeploy(1_500_000);
    byte[] before = fetch(host, 0).ciphertext();
    harness.close();
    harness = null;

    Path data = dir.resolve("data");
    Files.createDirectories(data.resolve("payloads"));
    Files.write(data.resolve("payloads/" + sha + ".enc"), before);
    Files.write(data.resolve("payloads/." + sha + ".77.tmp"), new byte[10]);
    Files.write(data.resolve("payloads/" + "cd".repeat(32) + ".enc"), new byte[10]); // no row names it
    try (Connection c = DriverManager.getConnection("jdbc:h2:file:" + data.resolve("controlplane"), "sa", "");
        PreparedStatement s = c.prepareStatement("DELETE FROM payload_chunks WHERE sha256 = ?")) {
      s.setString(1, sha);
      assertTrue(s.executeUpdate() >= 2);
    }

    harness = new OpsHarness(dir, Map.of());
    assertFalse(Files.exists(data.resolve("payloads")), "the imported files and the directory are gone");
    List<Integer> rows = rowSizes(harness.controlPlane.bean(DataSource.class), sha);
    assertEquals(List.of(PayloadStore.CHUNK_BYTES, before.length - PayloadStore.CHUNK_BYTES), rows);
    var again = harness.channel(host.credential());
    Fetched after = fetch(again, 0);
    assertArrayEquals(before, after.ciphertext());
    assertEquals(sha, open(host, after));
  }

  // ---------------------------------------------------------------- helpers

  private record Fetched(FetchHeader header, byte[] ciphertext) {}

  private String uploadAndDeploy(int randomBytes) throws Exception {
    Path app = Files.createDirectories(dir.resolve("app-" + randomBytes));
    Files.writeString(app.resolve("config.yaml"), """
        services:
          api:
            run:
              start: [ "sleep 1000" ]
            healthcheck:
              cmd: "true"
        """);
    byte[] noise = new byte[randomBytes];
    new Random(randomBytes).nextBytes(noise); // incompressible: the ciphertext is as large
    Files.write(app.resolve("noise.bin"), noise);
    ByteArrayOutputStream archive = new ByteArrayOutputStream();
    PayloadArchive.pack(app, archive);
    String sha = harness.upload(archive.toByteArray(), "v1", "app").getPayload().getSha256();
    harness.operator().putDeployment(PutDeploymentRequest.newBuilder().setName("hello").setPayloadSha256(sha)
        .addHosts("web-1").build());
    return sha;
  }

  private Fetched fetch(OpsHarness.EnrolledHost host, long offset) throws Exception {
    return fetch(harness.channel(host.credential()), offset);
  }

  private Fetched fetch(io.grpc.ManagedChannel channel, long offset) throws Exception {
    String sha = harness.controlPlane.bean(io.infraveil.controlplane.deploy.DesiredStates.class)
        .find("web-1", "hello").orElseThrow().getPayload().getSha256();
    Iterator<FetchResponse> responses = PayloadServiceGrpc.newBlockingStub(channel)
        .fetch(FetchRequest.newBuilder().setDeployment("hello").setSha256(sha).setOffset(offset).build());
    FetchHeader header = responses.next().getHeader();
    ByteArrayOutputStream ciphertext = new ByteArrayOutputStream();
    long expected = offset;
    while (responses.hasNext()) {
      var chunk = responses.next().getChunk();
      assertEquals(expected, chunk.getOffset());
      expected += chunk.getData().size();
      ciphertext.writeBytes(chunk.getData().toByteArray());
    }
    return new Fetched(header, ciphertext.toByteArray());
  }

  /** Opens the ciphertext as a host does; returns the plaintext's hash. */
  private static String open(OpsHarness.EnrolledHost host, Fetched fetched) throws Exception {
    HostKeys keys = HostKeys.fromSecret(host.secret());
    var dataKey = KeyWrap.unwrap(keys.wrapKey(), fetched.header().getWrappedKey().toByteArray(),
        fetched.header().getPayload().getSha256());
    return RecordOpener.open(new ByteArrayInputStream(fetched.ciphertext()), new ByteArrayOutputStream(), dataKey,
        fetched.header().getNoncePrefix().toByteArray(), fetched.header().getRecordSize(),
        fetched.header().getPayload().getSize()).sha256Hex();
  }

  private static List<Integer> rowSizes(DataSource db, String sha) throws Exception {
    List<Integer> sizes = new ArrayList<>();
    try (Connection c = db.getConnection(); PreparedStatement s = c.prepareStatement(
        "SELECT chunk_index, OCTET_LENGTH(bytes) FROM payload_chunks WHERE sha256 = ? ORDER BY chunk_index")) {
      s.setString(1, sha);
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          assertEquals(sizes.size(), r.getInt(1), "rows are numbered from 0 without gaps");
          sizes.add(r.getInt(2));
        }
      }
    }
    return sizes;
  }

  private static void flipBit(Connection c, String sha, int index, int at) throws Exception {
    byte[] bytes;
    try (PreparedStatement s = c.prepareStatement(
        "SELECT bytes FROM payload_chunks WHERE sha256 = ? AND chunk_index = ?")) {
      s.setString(1, sha);
      s.setInt(2, index);
      try (ResultSet r = s.executeQuery()) {
        assertTrue(r.next());
        bytes = r.getBytes(1);
      }
    }
    bytes[at] ^= 0x40;
    try (PreparedStatement s = c.prepareStatement(
        "UPDATE payload_chunks SET bytes = ? WHERE sha256 = ? AND chunk_index = ?")) {
      s.setBytes(1, bytes);
      s.setString(2, sha);
      s.setInt(3, index);
      assertEquals(1, s.executeUpdate());
    }
  }
}
