package io.infraveil.cli.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.cli.Cli;
import io.infraveil.cli.CliException;
import io.infraveil.payload.trust.PublisherKeys;
import io.infraveil.payload.trust.PublisherSignature;
import io.infraveil.payload.trust.PublisherSignatures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code infraveil keys create-publisher}: files, modes, key id, and what it refuses. */
class KeysCommandTest {

  @TempDir Path dir;

  @Test
  void createsAKeyPairWhosePrivateHalfSignsForThePrintedKeyId() throws Exception {
    Path keys = dir.resolve("keys");

    Cli.Result result = Cli.run("keys", "create-publisher", "--dir", keys.toString(), "release");

    assertEquals(0, result.code(), result::toString);
    Path privateFile = keys.resolve("release.key");
    Path publicFile = keys.resolve("release.pub");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(privateFile)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keys)));
    PublicKey pinned = PublisherKeys.fromPem(Files.readString(publicFile));
    String keyId = PublisherSignatures.keyId(pinned);
    assertTrue(result.out().contains("created publisher key release, key id " + keyId), result::toString);
    assertTrue(result.out().contains("--publisher-key " + publicFile), result::toString);
    assertTrue(result.out().contains("DATA/identity/publishers.pem"), result::toString);
    assertTrue(result.out().contains("--sign " + privateFile), result::toString);
    // The private file alone is enough to sign for the pinned key: its public half is derived.
    PublisherKeyFile read = PublisherKeyFile.read(privateFile);
    assertEquals("release", read.name());
    assertEquals(keyId, read.keyId());
    assertEquals(pinned, read.publicKey());
    String sha = "0f".repeat(32);
    byte[] signature = PublisherSignatures.sign(read.privateKey(), "web", 9, sha);
    assertEquals(keyId, PublisherSignatures.verify(List.of(pinned), "web", 9, sha,
        List.of(new PublisherSignature(keyId, signature))));
  }

  @Test
  void neverReplacesAnExistingKey() throws Exception {
    assertEquals(0, Cli.run("keys", "create-publisher", "--dir", dir.toString(), "release").code());
    String before = Files.readString(dir.resolve("release.key"));

    Cli.Result again = Cli.run("keys", "create-publisher", "--dir", dir.toString(), "release");

    assertEquals(1, again.code(), again::toString);
    assertTrue(again.err().contains(dir.resolve("release.key") + " already exists"), again::toString);
    assertTrue(again.err().contains("never replaced"), again::toString);
    assertEquals(before, Files.readString(dir.resolve("release.key")));
  }

  @Test
  void refusesAnInvalidNameAndWritesNothing() throws Exception {
    Cli.Result result = Cli.run("keys", "create-publisher", "--dir", dir.toString(), "Bad/Name");

    assertEquals(2, result.code(), result::toString);
    assertTrue(result.err().contains("key name \"Bad/Name\" is invalid"), result::toString);
    try (var files = Files.list(dir)) {
      assertEquals(0, files.count());
    }
  }

  @Test
  void readingAPublicKeyAsSigningKeySaysWhatIsWrong() throws Exception {
    assertEquals(0, Cli.run("keys", "create-publisher", "--dir", dir.toString(), "release").code());

    CliException e = assertThrows(CliException.class,
        () -> PublisherKeyFile.read(dir.resolve("release.pub")));

    assertTrue(e.getMessage().contains("is not usable: expected a PRIVATE KEY (PKCS#8) block, found "
        + "'PUBLIC KEY'"), e.getMessage());
  }

  // The key files are the standard forms: OpenSSL derives the same public key from ours, and a
  // key OpenSSL made signs here for the public key OpenSSL prints.
  @Test
  void keyFilesInteroperateWithOpenssl() throws Exception {
    assertEquals(0, Cli.run("keys", "create-publisher", "--dir", dir.toString(), "release").code());
    assertEquals(Files.readString(dir.resolve("release.pub")),
        openssl("pkey", "-in", dir.resolve("release.key").toString(), "-pubout"));

    Path made = dir.resolve("ci.key");
    openssl("genpkey", "-algorithm", "ed25519", "-out", made.toString());
    PublicKey printed = PublisherKeys.fromPem(openssl("pkey", "-in", made.toString(), "-pubout"));
    PublisherKeyFile read = PublisherKeyFile.read(made);
    assertEquals("ci", read.name());
    assertEquals(PublisherSignatures.keyId(printed), read.keyId());
  }

  private static String openssl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process process;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new AssertionError("this test needs the openssl binary on PATH: " + e.getMessage(), e);
    }
    String out = new String(process.getInputStream().readAllBytes(),
        StandardCharsets.US_ASCII);
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "openssl finished");
    assertEquals(0, process.exitValue(), () -> command + ":\n" + out);
    return out;
  }
}
