package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.certs.Identity;
import io.infraveil.certs.Pem;
import io.infraveil.certs.PeerIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `certs init` and `certs issue` write what they say, keep keys private and never clobber a CA. */
class CertsCommandTest {

  @TempDir Path dir;

  private static String mode(Path file) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }

  @Test
  void initWritesCaWithPrivateKeyMode0600() throws Exception {
    Cli.Result result = Cli.run("certs", "init", "--dir", dir.toString(), "--trust-domain", "example.org");

    assertEquals(0, result.code(), result::toString);
    assertTrue(result.out().contains(dir.resolve("ca.crt").toString()), result::toString);
    assertTrue(result.out().contains("spiffe://example.org"), result::toString);
    assertEquals("rw-------", mode(dir.resolve("ca.key")));
    assertTrue(Files.readString(dir.resolve("ca.key")).startsWith("-----BEGIN PRIVATE KEY-----"));
    assertEquals("example.org", PeerIdentity.trustDomainOfCa(Pem.readCertificate(dir.resolve("ca.crt"))));
  }

  @Test
  void initDefaultsToInfraveilLocal() throws Exception {
    assertEquals(0, Cli.run("certs", "init", "--dir", dir.toString()).code());
    assertEquals("infraveil.local", PeerIdentity.trustDomainOfCa(Pem.readCertificate(dir.resolve("ca.crt"))));
  }

  @Test
  void initRefusesToOverwriteAnExistingCa() throws Exception {
    assertEquals(0, Cli.run("certs", "init", "--dir", dir.toString()).code());
    String key = Files.readString(dir.resolve("ca.key"));
    String cert = Files.readString(dir.resolve("ca.crt"));

    Cli.Result again = Cli.run("certs", "init", "--dir", dir.toString());

    assertEquals(1, again.code(), again::toString);
    assertTrue(again.err().contains("a CA already exists"), again::toString);
    assertEquals(key, Files.readString(dir.resolve("ca.key")));
    assertEquals(cert, Files.readString(dir.resolve("ca.crt")));
  }

  @Test
  void issueOperatorWritesCertificateAndPkcs8KeyMode0600() throws Exception {
    Cli.run("certs", "init", "--dir", dir.toString());

    Cli.Result result = Cli.run("certs", "issue", "--dir", dir.toString(), "--operator", "alice", "--days", "30");

    assertEquals(0, result.code(), result::toString);
    assertTrue(result.out().contains("spiffe://infraveil.local/operator/alice"), result::toString);
    assertTrue(result.out().contains(dir.resolve("alice.key").toString()), result::toString);
    assertEquals("rw-------", mode(dir.resolve("alice.key")));
    assertTrue(Files.readString(dir.resolve("alice.key")).startsWith("-----BEGIN PRIVATE KEY-----"));
    X509Certificate certificate = Pem.readCertificate(dir.resolve("alice.crt"));
    assertEquals(Identity.operator("infraveil.local", "alice"), PeerIdentity.identityOf(certificate).orElseThrow());
    certificate.verify(Pem.readCertificate(dir.resolve("ca.crt")).getPublicKey());
  }

  @Test
  void issueServerCarriesTheGivenSans() throws Exception {
    Cli.run("certs", "init", "--dir", dir.toString());

    Cli.Result result = Cli.run("certs", "issue", "--dir", dir.toString(), "--server", "controlplane",
        "--san", "cp.example.org", "--san", "10.1.2.3");

    assertEquals(0, result.code(), result::toString);
    var sans = List.copyOf(Pem.readCertificate(dir.resolve("controlplane.crt")).getSubjectAlternativeNames());
    assertTrue(sans.contains(List.of(2, "cp.example.org")), sans.toString());
    assertTrue(sans.contains(List.of(7, "10.1.2.3")), sans.toString());
    assertTrue(sans.contains(List.of(6, "spiffe://infraveil.local/controlplane/controlplane")), sans.toString());
  }

  @Test
  void issueWithoutCaSaysToRunInit() {
    Cli.Result result = Cli.run("certs", "issue", "--dir", dir.toString(), "--host", "web-1");

    assertEquals(1, result.code(), result::toString);
    assertTrue(result.err().contains("certs init --dir"), result::toString);
    assertFalse(Files.exists(dir.resolve("web-1.key")));
  }

  @Test
  void issueRefusesToReplaceAnExistingCertificateWithoutForce() throws Exception {
    Cli.run("certs", "init", "--dir", dir.toString());
    Cli.run("certs", "issue", "--dir", dir.toString(), "--host", "web-1");
    String key = Files.readString(dir.resolve("web-1.key"));

    Cli.Result again = Cli.run("certs", "issue", "--dir", dir.toString(), "--host", "web-1");
    assertEquals(1, again.code(), again::toString);
    assertTrue(again.err().contains("--force"), again::toString);
    assertEquals(key, Files.readString(dir.resolve("web-1.key")));

    assertEquals(0, Cli.run("certs", "issue", "--dir", dir.toString(), "--host", "web-1", "--force").code());
    assertFalse(key.equals(Files.readString(dir.resolve("web-1.key"))));
  }

  @Test
  void usageErrorsExitTwoAndWriteNothing() throws Exception {
    Cli.run("certs", "init", "--dir", dir.toString());
    List<List<String>> bad = List.of(
        List.of("--operator", "Alice"),                      // upper case
        List.of("--operator", "ca"),                         // would clobber the CA
        List.of("--operator", "alice", "--host", "web-1"),   // two kinds
        List.of(),                                           // no kind
        List.of("--host", "web-1", "--san", "x.example"),    // SANs are for servers
        List.of("--host", "web-1", "--days", "0"));
    for (List<String> args : bad) {
      List<String> line = new java.util.ArrayList<>(List.of("certs", "issue", "--dir", dir.toString()));
      line.addAll(args);
      Cli.Result result = Cli.run(line.toArray(String[]::new));
      assertEquals(2, result.code(), () -> args + "\n" + result);
    }
    try (var files = Files.list(dir)) {
      assertEquals(List.of("ca.crt", "ca.key"), files.map(f -> f.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void issueOperatorWithP12WritesABundleOpensslAndJavaOpenWithThePrintedPassword() throws Exception {
    Cli.run("certs", "init", "--dir", dir.toString());

    Cli.Result result = Cli.run("certs", "issue", "--dir", dir.toString(), "--operator", "alice", "--p12");

    assertEquals(0, result.code(), result::toString);
    Path bundle = dir.resolve("alice.p12");
    assertEquals("rw-------", mode(bundle));
    var printed = java.util.regex.Pattern.compile("password, shown once: (\\S+)\\)").matcher(result.out());
    assertTrue(printed.find(), result::toString);
    char[] password = printed.group(1).toCharArray();
    java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(bundle)) {
      store.load(in, password);
    }
    var chain = store.getCertificateChain("alice");
    assertEquals(2, chain.length, "leaf and CA");
    assertEquals(Pem.readCertificate(dir.resolve("alice.crt")), chain[0]);
    assertEquals(Pem.readCertificate(dir.resolve("ca.crt")), chain[1]);
    assertEquals(Pem.readPrivateKey(dir.resolve("alice.key")), store.getKey("alice", password));

    Path openssl = Path.of("/usr/bin/openssl");
    if (Files.isExecutable(openssl)) { // a second, independent reader of the format browsers import
      Process p = new ProcessBuilder(openssl.toString(), "pkcs12", "-in", bundle.toString(), "-nokeys",
          "-passin", "pass:" + new String(password)).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertEquals(0, p.waitFor(), out);
      assertTrue(out.contains("operator/alice") || out.contains("BEGIN CERTIFICATE"), out);
    }
  }

  @Test
  void p12IsOnlyForOperatorsAndTakesAPasswordFile() throws Exception {
    Cli.run("certs", "init", "--dir", dir.toString());
    Cli.Result host = Cli.run("certs", "issue", "--dir", dir.toString(), "--host", "web-1", "--p12");
    assertEquals(2, host.code(), host::toString);
    assertTrue(host.err().contains("--p12 is for operator certificates"), host::toString);

    Path passwordFile = dir.resolve("pw");
    Files.writeString(passwordFile, "correct horse\n");
    Cli.Result bob = Cli.run("certs", "issue", "--dir", dir.toString(), "--operator", "bob",
        "--p12-password-file", passwordFile.toString());
    assertEquals(0, bob.code(), bob::toString);
    assertFalse(bob.out().contains("correct horse"), "a given password is never printed");
    java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(dir.resolve("bob.p12"))) {
      store.load(in, "correct horse".toCharArray());
    }
    assertTrue(store.isKeyEntry("bob"));
  }
}
