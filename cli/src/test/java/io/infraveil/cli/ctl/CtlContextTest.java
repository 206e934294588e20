package io.infraveil.cli.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.cli.CliException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Context files in YAML or properties form; relative paths follow the file, not the shell. */
class CtlContextTest {

  @TempDir Path dir;

  @BeforeEach
  void credentials() throws Exception {
    Files.createDirectories(dir.resolve("pki"));
    for (String name : new String[] {"ca.crt", "op.crt", "op.key"}) {
      Files.writeString(dir.resolve("pki").resolve(name), "x");
    }
  }

  @Test
  void readsYamlWithRelativePaths() throws Exception {
    Path file = Files.writeString(dir.resolve("ctx.yaml"), """
        # comment
        endpoint: "cp.example.org:7443"
        ca: pki/ca.crt   # the CA
        cert: 'pki/op.crt'
        key: pki/op.key
        unknown: ignored
        """);
    CtlContext context = CtlContext.load(file);
    assertEquals("cp.example.org", context.host());
    assertEquals(7443, context.port());
    assertEquals(dir.resolve("pki/ca.crt"), context.ca());
    assertEquals(dir.resolve("pki/op.crt"), context.cert());
    assertEquals(dir.resolve("pki/op.key"), context.key());
  }

  @Test
  void readsPropertiesAndIpv6() throws Exception {
    Path file = Files.writeString(dir.resolve("ctx.properties"),
        "endpoint=[::1]:9443\nca=pki/ca.crt\ncert=pki/op.crt\nkey=" + dir.resolve("pki/op.key") + "\n");
    CtlContext context = CtlContext.load(file);
    assertEquals("::1", context.host());
    assertEquals(9443, context.port());
    assertEquals("[::1]:9443", context.endpoint());
    assertEquals(dir.resolve("pki/op.key"), context.key());
  }

  @Test
  void endpointTakesACommaSeparatedListOfReplicas() throws Exception {
    Path file = Files.writeString(dir.resolve("ctx.yaml"), """
        endpoint: cp-a.example.org:7443, cp-b.example.org:7443,[::1]:7443
        ca: pki/ca.crt
        cert: pki/op.crt
        key: pki/op.key
        """);
    CtlContext context = CtlContext.load(file);
    assertEquals("cp-a.example.org:7443,cp-b.example.org:7443,[::1]:7443", context.endpoint());
    assertEquals("cp-a.example.org", context.host());
    assertEquals(7443, context.port());
    assertEquals("https://cp-a.example.org:7080", context.http().toString());
  }

  @Test
  void endpointsTakesAYamlList() throws Exception {
    Path file = Files.writeString(dir.resolve("ctx.yaml"), """
        endpoints:
          - cp-a.example.org:7443   # first replica
          - "cp-b.example.org:7443"
        ca: pki/ca.crt
        cert: pki/op.crt
        key: pki/op.key
        """);
    assertEquals("cp-a.example.org:7443,cp-b.example.org:7443",
        CtlContext.load(file).endpoint());
  }

  @Test
  void aBadListElementIsNamed() throws Exception {
    Path file = Files.writeString(dir.resolve("ctx.yaml"),
        "endpoint: a:7443,a:7443\nca: pki/ca.crt\ncert: pki/op.crt\nkey: pki/op.key\n");
    CliException error = assertThrows(CliException.class, () -> CtlContext.load(file));
    assertEquals("context file " + file + ": `endpoint`: control plane endpoint a:7443 is given"
        + " twice in \"a:7443,a:7443\"; list each replica once", error.getMessage());
    Path both = Files.writeString(dir.resolve("both.yaml"),
        "endpoint: a:7443\nendpoints: b:7443\nca: pki/ca.crt\ncert: pki/op.crt\nkey: pki/op.key\n");
    error = assertThrows(CliException.class, () -> CtlContext.load(both));
    assertTrue(error.getMessage().contains("has both `endpoint` and `endpoints`"),
        error.getMessage());
  }

  @Test
  void missingKeyIsNamed() throws Exception {
    Path file = Files.writeString(dir.resolve("ctx.yaml"), "endpoint: localhost:7443\nca: pki/ca.crt\ncert: pki/op.crt\n");
    CliException error = assertThrows(CliException.class, () -> CtlContext.load(file));
    assertTrue(error.getMessage().contains("no `key`"), error.getMessage());
    assertTrue(error.getMessage().contains(file.toString()), error.getMessage());
  }

  @Test
  void missingCredentialFileIsNamed() throws Exception {
    Path file = Files.writeString(dir.resolve("ctx.yaml"),
        "endpoint: localhost:7443\nca: pki/ca.crt\ncert: pki/op.crt\nkey: pki/gone.key\n");
    CliException error = assertThrows(CliException.class, () -> CtlContext.load(file));
    assertTrue(error.getMessage().contains("gone.key does not exist"), error.getMessage());
  }

  @Test
  void badEndpointsAreRefused() throws Exception {
    for (String endpoint : new String[] {"localhost", "localhost:", "localhost:http", "localhost:70000"}) {
      Path file = Files.writeString(dir.resolve("ctx.yaml"),
          "endpoint: " + endpoint + "\nca: pki/ca.crt\ncert: pki/op.crt\nkey: pki/op.key\n");
      CliException error = assertThrows(CliException.class, () -> CtlContext.load(file), endpoint);
      assertTrue(error.getMessage().contains("endpoint"), error.getMessage());
    }
  }

  @Test
  void httpDefaultsToTheGrpcHostOnPort7080() throws Exception {
    Path file = Files.writeString(dir.resolve("ctx.yaml"),
        "endpoint: cp.example.org:7443\nca: pki/ca.crt\ncert: pki/op.crt\nkey: pki/op.key\n");
    CtlContext context = CtlContext.load(file);
    assertEquals(java.net.URI.create("https://cp.example.org:7080"), context.http());
    assertEquals("https://cp.example.org:7080/client/api/operations", context.operationsUrl().toString());
  }

  @Test
  void httpKeyNamesTheOperationsEndpoint() throws Exception {
    Path file = Files.writeString(dir.resolve("ctx.yaml"), """
        endpoint: localhost:7443
        ca: pki/ca.crt
        cert: pki/op.crt
        key: pki/op.key
        http: https://ops.example.org:8443/   # the operations API
        """);
    CtlContext context = CtlContext.load(file);
    assertEquals("https://ops.example.org:8443/client/api/operations", context.operationsUrl().toString());
  }

  @Test
  void plainHttpIsRefused() throws Exception {
    for (String http : new String[] {"http://localhost:7080", "https://localhost", "https://localhost:7080/x", "::"}) {
      Path file = Files.writeString(dir.resolve("ctx.yaml"),
          "endpoint: localhost:7443\nca: pki/ca.crt\ncert: pki/op.crt\nkey: pki/op.key\nhttp: " + http + "\n");
      CliException error = assertThrows(CliException.class, () -> CtlContext.load(file), http);
      assertTrue(error.getMessage().contains("http \"" + http + "\""), error.getMessage());
    }
  }
}
