package io.infraveil.payload.trust;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PayloadStatementTest {

  private static final String SHA = "ab".repeat(32);

  // Pins the documented layout byte for byte.
  @Test
  void encodesLengthPrefixedFieldsBigEndian() {
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.writeBytes(ByteBuffer.allocate(4).putInt(3).array());
    expected.writeBytes("ctx".getBytes(StandardCharsets.US_ASCII));
    expected.writeBytes(ByteBuffer.allocate(4).putInt(4).array());
    expected.writeBytes("déj".getBytes(StandardCharsets.UTF_8));
    expected.writeBytes(ByteBuffer.allocate(8).putLong(258).array());
    expected.writeBytes(ByteBuffer.allocate(4).putInt(64).array());
    expected.writeBytes(SHA.getBytes(StandardCharsets.US_ASCII));

    assertArrayEquals(expected.toByteArray(), PayloadStatement.encode("ctx", "déj", 258, SHA));
  }

  @Test
  void differentContextsEncodeDifferently() {
    assertFalse(Arrays.equals(PayloadStatement.encode("a", "web", 1, SHA),
        PayloadStatement.encode("b", "web", 1, SHA)));
  }

  @Test
  void refusesUppercaseHashNegativeSequenceAndEmptyDeployment() {
    assertThrows(IllegalArgumentException.class,
        () -> PayloadStatement.encode("c", "web", 1, SHA.toUpperCase()));
    assertThrows(IllegalArgumentException.class,
        () -> PayloadStatement.encode("c", "web", -1, SHA));
    assertThrows(IllegalArgumentException.class,
        () -> PayloadStatement.encode("c", "", 1, SHA));
  }
}
