package io.infraveil.payload.seal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;

class DataKeysTest {

  @Test
  void newDataKeyIsFreshAes256() {
    SecureRandom random = new SecureRandom();
    SecretKey a = DataKeys.newDataKey(random);
    SecretKey b = DataKeys.newDataKey(random);

    assertEquals("AES", a.getAlgorithm());
    assertEquals(32, a.getEncoded().length);
    assertFalse(Arrays.equals(a.getEncoded(), b.getEncoded()));
  }
}
