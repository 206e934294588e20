package io.infraveil.payload.trust;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.EdECKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ed25519 publisher key pairs and their public keys as PEM ("PUBLIC KEY", X.509
 * SubjectPublicKeyInfo), the form operators pin on hosts and OpenSSL reads.
 */
public final class PublisherKeys {

  private static final Pattern PEM = Pattern.compile(
      "-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");

  private PublisherKeys() {}

  public static KeyPair newKeyPair(SecureRandom random) {
    Objects.requireNonNull(random, "random");
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
      generator.initialize(NamedParameterSpec.ED25519, random);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot generate Ed25519 keys", e);
    }
  }

  /** One "PUBLIC KEY" PEM block, lines of 64 characters, ending in a newline. */
  public static String toPem(PublicKey key) {
    requireEd25519(key);
    String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.getEncoded());
    return "-----BEGIN PUBLIC KEY-----\n" + body + "\n-----END PUBLIC KEY-----\n";
  }

  /** Reads exactly one Ed25519 public key. */
  public static PublicKey fromPem(String pem) {
    List<PublicKey> keys = allFromPem(pem);
    if (keys.size() != 1) {
      throw new IllegalArgumentException(
          "expected one PUBLIC KEY PEM block, found " + keys.size());
    }
    return keys.get(0);
  }

  /** Reads every "PUBLIC KEY" block of a pinned-keys file; other text between blocks is ignored. */
  public static List<PublicKey> allFromPem(String pem) {
    Objects.requireNonNull(pem, "pem");
    List<PublicKey> keys = new ArrayList<>();
    Matcher m = PEM.matcher(pem);
    while (m.find()) {
      if (!m.group(1).equals("PUBLIC KEY")) {
        throw new IllegalArgumentException("expected PEM blocks of type PUBLIC KEY, found '"
            + m.group(1) + "'; export the Ed25519 public key (openssl pkey -pubout)");
      }
      byte[] der = Base64.getMimeDecoder().decode(m.group(2));
      try {
        keys.add(KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der)));
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException("PUBLIC KEY block " + (keys.size() + 1)
            + " is not an Ed25519 key: " + e.getMessage(), e);
      }
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("no PEM block found; expected '-----BEGIN PUBLIC KEY-----'");
    }
    return List.copyOf(keys);
  }

  /**
   * The private half as one PKCS#8 "PRIVATE KEY" PEM block (what {@code openssl genpkey
   * -algorithm ed25519} writes); it belongs on the publisher's machine only.
   */
  public static String privateKeyToPem(PrivateKey key) {
    Objects.requireNonNull(key, "key");
    if (!(key instanceof EdECKey edec) || !edec.getParams().getName().equals("Ed25519")) {
      throw new IllegalArgumentException(
          "publisher keys must be Ed25519, got " + key.getAlgorithm());
    }
    String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.getEncoded());
    return "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n";
  }

  /** Reads one Ed25519 private key from a PKCS#8 "PRIVATE KEY" PEM block. */
  public static PrivateKey privateKeyFromPem(String pem) {
    Objects.requireNonNull(pem, "pem");
    Matcher m = PEM.matcher(pem);
    if (!m.find()) {
      throw new IllegalArgumentException(
          "no PEM block found; expected '-----BEGIN PRIVATE KEY-----' (PKCS#8)");
    }
    if (!m.group(1).equals("PRIVATE KEY")) {
      throw new IllegalArgumentException("expected a PRIVATE KEY (PKCS#8) block, found '"
          + m.group(1) + "'; make the key with `infraveil keys create-publisher` or"
          + " `openssl genpkey -algorithm ed25519`");
    }
    byte[] der = Base64.getMimeDecoder().decode(m.group(2));
    try {
      return KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("the PRIVATE KEY block is not an Ed25519 key: "
          + e.getMessage(), e);
    }
  }

  static PublicKey requireEd25519(PublicKey key) {
    Objects.requireNonNull(key, "key");
    if (!(key instanceof EdECKey edec) || !edec.getParams().getName().equals("Ed25519")) {
      throw new IllegalArgumentException(
          "publisher keys must be Ed25519, got " + key.getAlgorithm());
    }
    return key;
  }
}
