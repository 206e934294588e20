package io.infraveil.payload.trust;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class HkdfTest {

  private static final HexFormat HEX = HexFormat.of();

  // RFC 5869 appendix A.1: basic test case with SHA-256.
  @Test
  void matchesRfc5869TestCase1() {
    byte[] ikm = new byte[22];
    Arrays.fill(ikm, (byte) 0x0b);
    byte[] salt = HEX.parseHex("000102030405060708090a0b0c");
    byte[] info = HEX.parseHex("f0f1f2f3f4f5f6f7f8f9");

    byte[] prk = Hkdf.extract(salt, ikm);

    assertArrayEquals(
        HEX.parseHex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"), prk);
    assertArrayEquals(HEX.parseHex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ec"
        + "c4c5bf34007208d5b887185865"), Hkdf.expand(prk, info, 42));
  }

  // RFC 5869 appendix A.3: empty salt means HashLen zero bytes, empty info.
  @Test
  void matchesRfc5869TestCase3WithEmptySaltAndInfo() {
    byte[] ikm = new byte[22];
    Arrays.fill(ikm, (byte) 0x0b);

    assertArrayEquals(HEX.parseHex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c"
        + "738d2d9d201395faa4b61a96c8"), Hkdf.derive(new byte[0], ikm, new byte[0], 42));
    assertArrayEquals(Hkdf.derive(new byte[32], ikm, new byte[0], 42),
        Hkdf.derive(new byte[0], ikm, new byte[0], 42));
  }

  @Test
  void expandRefusesLengthBeyond255Blocks() {
    assertThrows(IllegalArgumentException.class,
        () -> Hkdf.expand(new byte[32], new byte[0], 255 * 32 + 1));
  }
}
