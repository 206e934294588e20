package io.infraveil.payload.seal;

import static io.infraveil.payload.seal.SealFixtures.KEY;
import static io.infraveil.payload.seal.SealFixtures.OTHER_KEY;
import static io.infraveil.payload.seal.SealFixtures.PREFIX;
import static io.infraveil.payload.seal.SealFixtures.data;
import static io.infraveil.payload.seal.SealFixtures.seal;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.Sha256Hex;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RecordOpenerTest {

  private static final int RECORD = RecordFormat.DEFAULT_RECORD_SIZE;
  /** Small records keep the tamper cases readable: 3 full records and a 5-byte final one. */
  private static final int SMALL = 64;
  private static final int FULL = SMALL + 16;
  private static final byte[] PLAIN = data(3 * SMALL + 5);

  /** What a failed open left behind; the test asserts it is nothing from the bad record on. */
  private final ByteArrayOutputStream written = new ByteArrayOutputStream();

  @ParameterizedTest
  @ValueSource(ints = {0, 1, RECORD - 1, RECORD, RECORD + 1, 3 * RECORD + 5})
  void openRestoresPlaintextOfEverySize(int size) throws Exception {
    byte[] plaintext = data(size);
    byte[] sealed = seal(plaintext, RECORD);

    OpenResult result = RecordOpener.open(
        new ByteArrayInputStream(sealed), written, KEY, PREFIX, RECORD);

    assertArrayEquals(plaintext, written.toByteArray());
    assertEquals(size, result.plaintextSize());
    assertEquals(Sha256Hex.format(Sha256Hex.newDigest().digest(plaintext)), result.sha256Hex());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, RECORD - 1, RECORD, RECORD + 1, 3 * RECORD + 5})
  void openWithExpectedSizeRestoresPlaintextOfEverySize(int size) throws Exception {
    byte[] plaintext = data(size);
    byte[] sealed = seal(plaintext, RECORD);

    OpenResult result = RecordOpener.open(
        new ByteArrayInputStream(sealed), written, KEY, PREFIX, RECORD, size);

    assertArrayEquals(plaintext, written.toByteArray());
    assertEquals(size, result.plaintextSize());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3})
  void openRejectsFlippedCiphertextByteInAnyRecord(int record) throws Exception {
    byte[] sealed = seal(PLAIN, SMALL);
    sealed[record * FULL + 3] ^= 1;

    PayloadRejectedException e = assertRejected(RejectionReason.DECRYPT_FAILED, record,
        () -> RecordOpener.open(in(sealed), written, KEY, PREFIX, SMALL));

    assertTrue(e.getMessage().contains("failed AES-GCM authentication"), e.getMessage());
    assertEquals(record * SMALL, written.size(), "only records before the bad one are written");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3})
  void openWithExpectedSizeRejectsFlippedTagByteInAnyRecord(int record) throws Exception {
    byte[] sealed = seal(PLAIN, SMALL);
    int end = record == 3 ? sealed.length : (record + 1) * FULL;
    sealed[end - 1] ^= (byte) 0x80;

    assertRejected(RejectionReason.DECRYPT_FAILED, record,
        () -> RecordOpener.open(in(sealed), written, KEY, PREFIX, SMALL, PLAIN.length));
    assertEquals(record * SMALL, written.size());
  }

  @Test
  void openRejectsStreamMissingItsFinalRecord() throws Exception {
    byte[] sealed = seal(PLAIN, SMALL);
    byte[] cut = Arrays.copyOf(sealed, 3 * FULL);

    PayloadRejectedException e = assertRejected(RejectionReason.TRUNCATED, 2,
        () -> RecordOpener.open(in(cut), written, KEY, PREFIX, SMALL));

    assertTrue(e.getMessage().contains("not the final one"), e.getMessage());
    assertEquals(2 * SMALL, written.size(), "the intact but non-final record is not written");
  }

  @Test
  void openWithExpectedSizeRejectsStreamMissingItsFinalRecord() throws Exception {
    byte[] cut = Arrays.copyOf(seal(PLAIN, SMALL), 3 * FULL);

    PayloadRejectedException e = assertRejected(RejectionReason.TRUNCATED, 3,
        () -> RecordOpener.open(in(cut), written, KEY, PREFIX, SMALL, PLAIN.length));

    assertTrue(e.getMessage().contains("ended after 240 of 261 bytes"), e.getMessage());
  }

  @Test
  void openWithExpectedSizeRejectsStreamCutMidRecord() throws Exception {
    byte[] cut = Arrays.copyOf(seal(PLAIN, SMALL), FULL + 40);

    PayloadRejectedException e = assertRejected(RejectionReason.TRUNCATED, 1,
        () -> RecordOpener.open(in(cut), written, KEY, PREFIX, SMALL, PLAIN.length));

    assertTrue(e.getMessage().contains("ended after 120 of 261 bytes"), e.getMessage());
    assertEquals(SMALL, written.size());
  }

  @Test
  void openRejectsStreamCutInsideATag() throws Exception {
    byte[] cut = Arrays.copyOf(seal(PLAIN, SMALL), FULL + 10);

    PayloadRejectedException e = assertRejected(RejectionReason.TRUNCATED, 1,
        () -> RecordOpener.open(in(cut), written, KEY, PREFIX, SMALL));

    assertTrue(e.getMessage().contains("less than its 16-byte tag"), e.getMessage());
  }

  // Without the expected size a cut leaving a tag's worth of bytes looks like a tampered
  // final record; it must still be refused.
  @Test
  void openRejectsStreamCutMidRecordWithoutExpectedSizeAsDecryptFailure() throws Exception {
    byte[] cut = Arrays.copyOf(seal(PLAIN, SMALL), FULL + 40);

    assertRejected(RejectionReason.DECRYPT_FAILED, 1,
        () -> RecordOpener.open(in(cut), written, KEY, PREFIX, SMALL));
    assertEquals(SMALL, written.size());
  }

  @Test
  void openRejectsEmptyCiphertext() throws Exception {
    PayloadRejectedException e = assertRejected(RejectionReason.TRUNCATED, 0,
        () -> RecordOpener.open(in(new byte[0]), written, KEY, PREFIX, SMALL));

    assertTrue(e.getMessage().contains("ciphertext is empty"), e.getMessage());
  }

  @Test
  void openRejectsSwappedRecords() throws Exception {
    byte[] sealed = seal(PLAIN, SMALL);
    byte[] swapped = sealed.clone();
    System.arraycopy(sealed, 0, swapped, FULL, FULL);
    System.arraycopy(sealed, FULL, swapped, 0, FULL);

    assertRejected(RejectionReason.DECRYPT_FAILED, 0,
        () -> RecordOpener.open(in(swapped), written, KEY, PREFIX, SMALL));
    assertEquals(0, written.size());
  }

  @Test
  void openRejectsDuplicatedRecord() throws Exception {
    byte[] sealed = seal(PLAIN, SMALL);
    byte[] duplicated = sealed.clone();
    System.arraycopy(sealed, 0, duplicated, FULL, FULL);

    assertRejected(RejectionReason.DECRYPT_FAILED, 1,
        () -> RecordOpener.open(in(duplicated), written, KEY, PREFIX, SMALL));
  }

  @Test
  void openRejectsBytesAppendedAfterFullSizeFinalRecord() throws Exception {
    byte[] sealed = seal(data(2 * SMALL), SMALL);
    byte[] appended = Arrays.copyOf(sealed, sealed.length + 3);

    PayloadRejectedException e = assertRejected(RejectionReason.TRAILING_DATA, 1,
        () -> RecordOpener.open(in(appended), written, KEY, PREFIX, SMALL));

    assertTrue(e.getMessage().contains("bytes follow this record"), e.getMessage());
    assertEquals(SMALL, written.size());
  }

  @Test
  void openWithExpectedSizeRejectsAppendedBytes() throws Exception {
    byte[] sealed = seal(PLAIN, SMALL);
    byte[] appended = Arrays.copyOf(sealed, sealed.length + 1);

    PayloadRejectedException e = assertRejected(RejectionReason.TRAILING_DATA, 3,
        () -> RecordOpener.open(in(appended), written, KEY, PREFIX, SMALL, PLAIN.length));

    assertTrue(e.getMessage().contains("expected exactly 261 ciphertext bytes"), e.getMessage());
  }

  @Test
  void openRejectsWrongKey() throws Exception {
    byte[] sealed = seal(PLAIN, SMALL);

    assertRejected(RejectionReason.DECRYPT_FAILED, 0,
        () -> RecordOpener.open(in(sealed), written, OTHER_KEY, PREFIX, SMALL));
    assertEquals(0, written.size());
  }

  @Test
  void openRejectsWrongNoncePrefix() throws Exception {
    byte[] sealed = seal(PLAIN, SMALL);
    byte[] otherPrefix = {1, 1, 1, 1, 1, 1, 1};

    assertRejected(RejectionReason.DECRYPT_FAILED, 0,
        () -> RecordOpener.open(in(sealed), written, KEY, otherPrefix, SMALL, PLAIN.length));
  }

  @Test
  void requireSha256RejectsOtherHash() throws Exception {
    OpenResult result = RecordOpener.open(in(seal(PLAIN, SMALL)), written, KEY, PREFIX, SMALL);
    String other = "0".repeat(64);

    PayloadRejectedException e =
        assertThrows(PayloadRejectedException.class, () -> result.requireSha256(other));

    assertEquals(RejectionReason.HASH_MISMATCH, e.reason());
    assertTrue(e.getMessage().contains("desired state names " + other), e.getMessage());
    assertEquals(result, result.requireSha256(result.sha256Hex()));
  }

  // Hashing and writing run on a second thread: a failing output still fails the open.
  @Test
  void openWithExpectedSizeReportsAFailingOutput() throws Exception {
    byte[] plaintext = data(5 * RECORD + 3);
    byte[] sealed = seal(plaintext, RECORD);
    java.io.OutputStream full = new java.io.OutputStream() {
      private long count;

      @Override
      public void write(int b) throws java.io.IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws java.io.IOException {
        count += len;
        if (count > 2L * RECORD) {
          throw new java.io.IOException("no space left on device");
        }
      }
    };

    java.io.IOException e = assertThrows(java.io.IOException.class, () -> RecordOpener.open(
        in(sealed), full, KEY, PREFIX, RECORD, plaintext.length));
    assertEquals("no space left on device", e.getMessage());
  }

  // Many records through the two-thread pipe: bytes and hash as on one thread.
  @Test
  void openWithExpectedSizeKeepsRecordOrderOverManyRecords() throws Exception {
    byte[] plaintext = data(200 * SMALL + 7);
    OpenResult result = RecordOpener.open(in(seal(plaintext, SMALL)), written, KEY, PREFIX,
        SMALL, plaintext.length);
    assertArrayEquals(plaintext, written.toByteArray());
    assertEquals(Sha256Hex.format(Sha256Hex.newDigest().digest(plaintext)), result.sha256Hex());
  }

  // Records are handed to the hashing thread in chunks: sizes around a chunk's end give the
  // same bytes and hash as the one-thread open and as SHA-256 over the plaintext.
  @ParameterizedTest
  @ValueSource(ints = {-RECORD - 1, -1, 0, 1, RECORD, 3 * RECORD + 5})
  void openWithExpectedSizeMatchesOneThreadAroundChunkEnds(int offset) throws Exception {
    int chunk = RecordOpener.recordsPerChunk(RECORD) * RECORD;
    assertOpensLikeOneThread(data(chunk + offset), RECORD);
    assertOpensLikeOneThread(data(2 * chunk + offset), RECORD);
  }

  // Random record sizes and plaintext sizes (seeded, so a failure reproduces).
  @Test
  void openWithExpectedSizeMatchesOneThreadForRandomSizes() throws Exception {
    java.util.Random random = new java.util.Random(20261130);
    for (int i = 0; i < 40; i++) {
      int recordSize = i % 4 == 0 ? RECORD : 1 + random.nextInt(RECORD);
      int size = random.nextInt(4 * RecordOpener.CHUNK_BYTES);
      assertOpensLikeOneThread(data(size), recordSize);
    }
  }

  // A record tampered with in a later chunk: exactly the records before it are written.
  @ParameterizedTest
  @ValueSource(ints = {0, 1, 3, 4, 5, 9})
  void openWithExpectedSizeWritesOnlyRecordsBeforeATamperedOneInAnyChunk(int record)
      throws Exception {
    byte[] plaintext = data(10 * RECORD + 3);
    byte[] sealed = seal(plaintext, RECORD);
    sealed[record * (RECORD + 16) + 100] ^= 1;
    assertRejected(RejectionReason.DECRYPT_FAILED, record,
        () -> RecordOpener.open(in(sealed), written, KEY, PREFIX, RECORD, plaintext.length));
    assertArrayEquals(Arrays.copyOf(plaintext, record * RECORD), written.toByteArray());
  }

  // A cut inside a later chunk: TRUNCATED, and the whole records before the cut are written.
  @Test
  void openWithExpectedSizeWritesRecordsBeforeACutInALaterChunk() throws Exception {
    byte[] plaintext = data(10 * RECORD + 3);
    byte[] sealed = seal(plaintext, RECORD);
    byte[] cut = Arrays.copyOf(sealed, 6 * (RECORD + 16) + 10);
    assertRejected(RejectionReason.TRUNCATED, 6,
        () -> RecordOpener.open(in(cut), written, KEY, PREFIX, RECORD, plaintext.length));
    assertArrayEquals(Arrays.copyOf(plaintext, 6 * RECORD), written.toByteArray());
  }

  private static void assertOpensLikeOneThread(byte[] plaintext, int recordSize)
      throws Exception {
    byte[] sealed = seal(plaintext, recordSize);
    ByteArrayOutputStream piped = new ByteArrayOutputStream();
    OpenResult sized = RecordOpener.open(in(sealed), piped, KEY, PREFIX, recordSize,
        plaintext.length);
    ByteArrayOutputStream oneThread = new ByteArrayOutputStream();
    OpenResult unsized = RecordOpener.open(in(sealed), oneThread, KEY, PREFIX, recordSize);
    String expected = Sha256Hex.format(Sha256Hex.newDigest().digest(plaintext));
    String what = plaintext.length + " bytes in records of " + recordSize;
    assertArrayEquals(plaintext, piped.toByteArray(), what);
    assertArrayEquals(plaintext, oneThread.toByteArray(), what);
    assertEquals(expected, sized.sha256Hex(), what);
    assertEquals(expected, unsized.sha256Hex(), what);
    assertEquals(plaintext.length, sized.plaintextSize(), what);
  }

  private static ByteArrayInputStream in(byte[] bytes) {
    return new ByteArrayInputStream(bytes);
  }

  interface Opening {
    OpenResult run() throws Exception;
  }

  static PayloadRejectedException assertRejected(
      RejectionReason reason, long record, Opening opening) {
    PayloadRejectedException e = assertThrows(PayloadRejectedException.class, opening::run);
    assertEquals(reason, e.reason());
    assertEquals(OptionalLong.of(record), e.recordIndex());
    assertTrue(e.getMessage().startsWith(
        "payload rejected (" + reason + ") at record " + record + ": "), e.getMessage());
    assertTrue(e.getMessage().endsWith("; the payload was not used"), e.getMessage());
    return e;
  }
}
