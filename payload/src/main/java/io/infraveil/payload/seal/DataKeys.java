package io.infraveil.payload.seal;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Objects;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;

/** Data keys: one fresh AES-256 key per payload, never stored unwrapped. */
public final class DataKeys {

  private DataKeys() {}

  public static SecretKey newDataKey(SecureRandom random) {
    Objects.requireNonNull(random, "random");
    try {
      KeyGenerator generator = KeyGenerator.getInstance("AES");
      generator.init(256, random);
      return generator.generateKey();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot generate AES-256 keys", e);
    }
  }
}
