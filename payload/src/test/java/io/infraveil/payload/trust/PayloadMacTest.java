package io.infraveil.payload.trust;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class PayloadMacTest {

  private static final byte[] KEY = HostKeys.fromSecret(new byte[32]).macKey();
  private static final String SHA = "0123456789abcdef".repeat(4);
  private static final byte[] MAC = PayloadMac.compute(KEY, "web", 7, SHA);

  @Test
  void macIsHmacSha256OverTheStatement() throws Exception {
    Mac hmac = Mac.getInstance("HmacSHA256");
    hmac.init(new SecretKeySpec(KEY, "HmacSHA256"));

    assertArrayEquals(
        hmac.doFinal(PayloadStatement.encode("infraveil/v1 payload-mac", "web", 7, SHA)), MAC);
  }

  @Test
  void verifyAcceptsMatchingMac() {
    assertDoesNotThrow(() -> PayloadMac.verify(KEY, "web", 7, SHA, MAC));
  }

  @Test
  void verifyRejectsChangedDeployment() {
    assertMismatch(() -> PayloadMac.verify(KEY, "api", 7, SHA, MAC));
  }

  @Test
  void verifyRejectsChangedSequence() {
    assertMismatch(() -> PayloadMac.verify(KEY, "web", 8, SHA, MAC));
  }

  @Test
  void verifyRejectsChangedHash() {
    assertMismatch(() -> PayloadMac.verify(KEY, "web", 7, "f".repeat(64), MAC));
  }

  @Test
  void verifyRejectsOtherHostsKey() {
    byte[] secret = new byte[32];
    Arrays.fill(secret, (byte) 1);
    byte[] otherKey = HostKeys.fromSecret(secret).macKey();

    assertMismatch(() -> PayloadMac.verify(otherKey, "web", 7, SHA, MAC));
  }

  @Test
  void verifyRejectsTruncatedMac() {
    assertMismatch(() -> PayloadMac.verify(KEY, "web", 7, SHA, Arrays.copyOf(MAC, 16)));
  }

  private static void assertMismatch(Executable verification) {
    PayloadRejectedException e = assertThrows(PayloadRejectedException.class, verification);
    assertEquals(RejectionReason.MAC_MISMATCH, e.reason());
    assertTrue(e.getMessage().startsWith("payload rejected (MAC_MISMATCH): host MAC does not"
        + " match deployment"), e.getMessage());
    assertTrue(e.getMessage().endsWith("the payload was not used"), e.getMessage());
  }
}
