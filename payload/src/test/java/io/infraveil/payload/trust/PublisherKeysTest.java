package io.infraveil.payload.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class PublisherKeysTest {

  private static final PublicKey KEY = PublisherKeys.newKeyPair(new SecureRandom()).getPublic();

  @Test
  void pemRoundTripKeepsTheKey() {
    String pem = PublisherKeys.toPem(KEY);

    assertTrue(pem.startsWith("-----BEGIN PUBLIC KEY-----\n"), pem);
    assertTrue(pem.endsWith("\n-----END PUBLIC KEY-----\n"), pem);
    assertEquals(KEY, PublisherKeys.fromPem(pem));
  }

  // The example key of RFC 8410 section 10.1, with the CRLF line ends some tools write.
  @Test
  void readsOpensslStylePem() {
    String pem = "-----BEGIN PUBLIC KEY-----\r\n"
        + "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\r\n"
        + "-----END PUBLIC KEY-----\r\n";

    PublicKey key = PublisherKeys.fromPem(pem);

    assertEquals("MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=",
        Base64.getEncoder().encodeToString(key.getEncoded()));
  }

  @Test
  void readsEveryKeyOfAPinnedKeysFile() {
    PublicKey other = PublisherKeys.newKeyPair(new SecureRandom()).getPublic();
    String file = "# release key\n" + PublisherKeys.toPem(KEY) + "\n# backup key\n"
        + PublisherKeys.toPem(other);

    assertEquals(List.of(KEY, other), PublisherKeys.allFromPem(file));
  }

  @Test
  void fromPemRefusesPrivateKeyBlock() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PublisherKeys.fromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"));

    assertTrue(e.getMessage().contains("found 'PRIVATE KEY'"), e.getMessage());
  }

  @Test
  void fromPemRefusesNonEd25519Key() throws Exception {
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(256);
    String pem = "-----BEGIN PUBLIC KEY-----\n"
        + Base64.getMimeEncoder().encodeToString(ec.generateKeyPair().getPublic().getEncoded())
        + "\n-----END PUBLIC KEY-----\n";

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PublisherKeys.fromPem(pem));

    assertTrue(e.getMessage().contains("is not an Ed25519 key"), e.getMessage());
  }

  @Test
  void fromPemRefusesTextWithoutPem() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PublisherKeys.fromPem("hello"));

    assertTrue(e.getMessage().contains("no PEM block found"), e.getMessage());
  }

  @Test
  void privateKeyPemRoundTripSignsForTheSamePublicKey() throws Exception {
    var pair = PublisherKeys.newKeyPair(new SecureRandom());
    String pem = PublisherKeys.privateKeyToPem(pair.getPrivate());

    assertTrue(pem.startsWith("-----BEGIN PRIVATE KEY-----\n"), pem);
    var read = PublisherKeys.privateKeyFromPem(pem);
    String sha = "ab".repeat(32);
    byte[] signature = PublisherSignatures.sign(read, "web", 3, sha);
    assertEquals(PublisherSignatures.keyId(pair.getPublic()), PublisherSignatures.verify(
        List.of(pair.getPublic()), "web", 3, sha,
        List.of(new PublisherSignature(PublisherSignatures.keyId(pair.getPublic()), signature))));
  }

  @Test
  void privateKeyFromPemRefusesAPublicKeyWithAHint() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PublisherKeys.privateKeyFromPem(PublisherKeys.toPem(KEY)));

    assertTrue(e.getMessage().contains("expected a PRIVATE KEY (PKCS#8) block, found 'PUBLIC KEY'"),
        e.getMessage());
  }
}
