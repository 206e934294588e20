package io.infraveil.controlplane.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.store.PayloadStore.PayloadRecord;
import java.time.Instant;
import java.util.List;

/** Payload metadata by content hash, on H2 and PostgreSQL. */
class PayloadStoreTest {

  static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");

  static PayloadRecord payload(String sha, String label) {
    return new PayloadRecord(sha, 1_000, 1_100, 65_536, new byte[] {1, 2, 3, 4},
        new byte[] {(byte) 0x80, 0, 0x7f}, label, List.of("api=1", "worker=2"),
        "spiffe://t/operator/alice", T0);
  }

  @OnBothEngines
  void aPayloadIsStoredOnceUnderItsHash(Engine engine) {
    try (Engine.TestDatabase db = engine.open()) {
      PayloadStore payloads = new PayloadStore(db.jdbc());
      assertTrue(payloads.insertIfAbsent(payload("a".repeat(64), "1.0")));
      assertFalse(payloads.insertIfAbsent(payload("a".repeat(64), "other label")));

      PayloadRecord back = payloads.find("a".repeat(64)).orElseThrow();
      assertEquals("1.0", back.versionLabel());
      assertEquals(1_000, back.plaintextSize());
      assertEquals(1_100, back.ciphertextSize());
      assertEquals(65_536, back.recordSize());
      assertArrayEquals(new byte[] {1, 2, 3, 4}, back.noncePrefix());
      assertArrayEquals(new byte[] {(byte) 0x80, 0, 0x7f}, back.dataKeySealed());
      assertEquals(List.of("api=1", "worker=2"), back.services());
      assertEquals(T0, back.uploadedAt());
      assertTrue(payloads.find("b".repeat(64)).isEmpty());
    }
  }
}
