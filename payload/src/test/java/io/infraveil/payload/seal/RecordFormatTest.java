package io.infraveil.payload.seal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RecordFormatTest {

  // Resumable downloads rely on this arithmetic matching what the sealer writes.
  @ParameterizedTest
  @CsvSource({
      "0, 65536, 16",
      "1, 65536, 17",
      "65535, 65536, 65551",
      "65536, 65536, 65552",
      "65537, 65536, 65569",
      "196613, 65536, 196677",
      "10, 4, 58"
  })
  void ciphertextSizeAddsOneTagPerRecord(long plaintext, int recordSize, long expected) {
    assertEquals(expected, RecordFormat.ciphertextSize(plaintext, recordSize));
  }

  @Test
  void recordSizeAbove64KibIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RecordFormat.ciphertextSize(1, 65537));
    assertTrue(e.getMessage().contains("recordSize must be between 1 and 65536"), e.getMessage());
  }

  @Test
  void plaintextNeedingMoreThan2To32RecordsIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RecordFormat.ciphertextSize((1L << 32) * 2 + 1, 2));
    assertTrue(e.getMessage().contains("at most 4294967296 fit"), e.getMessage());
  }

  @Test
  void noncePrefixIsSevenRandomBytes() {
    byte[] prefix = RecordFormat.newNoncePrefix(new java.security.SecureRandom());
    assertEquals(7, prefix.length);
  }
}
