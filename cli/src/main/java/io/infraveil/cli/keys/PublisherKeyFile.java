package io.infraveil.cli.keys;

import io.infraveil.cli.CliException;
import io.infraveil.payload.trust.PublisherKeys;
import io.infraveil.payload.trust.PublisherSignatures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;

/**
 * A publisher's private key file as {@code keys create-publisher} writes it ({@code NAME.key},
 * PKCS#8 PEM, mode 0600) with what a signer needs beside it: the public key (derived, so no
 * second file can disagree), its key id and the name the publisher gave it.
 */
public record PublisherKeyFile(String name, PrivateKey privateKey, PublicKey publicKey) {

  /** File name suffixes of the two halves. */
  public static final String PRIVATE_SUFFIX = ".key";
  public static final String PUBLIC_SUFFIX = ".pub";

  // DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE, AlgorithmIdentifier
  // 1.3.101.112, BIT STRING of 33 bytes; the 32-byte raw key follows.
  private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

  public PublisherKeyFile {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(publicKey, "publicKey");
  }

  /** Reads a private key file; the key's name is the file name without {@code .key}. */
  public static PublisherKeyFile read(Path file) {
    String pem;
    try {
      pem = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new CliException("publisher key " + file + " does not exist; make one with "
          + "`infraveil keys create-publisher --dir DIR NAME`");
    } catch (IOException e) {
      throw new CliException("cannot read publisher key " + file + ": " + e.getMessage());
    }
    PrivateKey key;
    try {
      key = PublisherKeys.privateKeyFromPem(pem);
    } catch (IllegalArgumentException e) {
      throw new CliException("publisher key " + file + " is not usable: " + e.getMessage());
    }
    String fileName = file.getFileName().toString();
    String name = fileName.endsWith(PRIVATE_SUFFIX)
        ? fileName.substring(0, fileName.length() - PRIVATE_SUFFIX.length()) : fileName;
    return new PublisherKeyFile(name, key, publicKeyOf(key));
  }

  /** Hex key id, as hosts and {@code ctl deployments} show it. */
  public String keyId() {
    return PublisherSignatures.keyId(publicKey);
  }

  /** The public key of an Ed25519 private key: BouncyCastle derives it from the seed. */
  static PublicKey publicKeyOf(PrivateKey key) {
    if (!(key instanceof EdECPrivateKey edec) || edec.getBytes().isEmpty()) {
      throw new CliException("publisher keys must be Ed25519, got " + key.getAlgorithm());
    }
    byte[] seed = edec.getBytes().get();
    try {
      byte[] raw = new Ed25519PrivateKeyParameters(seed, 0).generatePublicKey().getEncoded();
      byte[] spki = Arrays.copyOf(SPKI_PREFIX, SPKI_PREFIX.length + raw.length);
      System.arraycopy(raw, 0, spki, SPKI_PREFIX.length, raw.length);
      return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot read Ed25519 public keys", e);
    } finally {
      Arrays.fill(seed, (byte) 0);
    }
  }
}
