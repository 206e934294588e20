package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import io.infraveil.proto.v1.ListSecretsResponse;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `ctl secrets` against a real control plane over mTLS: values go in and never come out. */
class CtlSecretsTest {

  @TempDir Path dir;
  TestControlPlane server;
  final String value = "pw-" + UUID.randomUUID();

  @BeforeEach
  void start() throws Exception {
    server = new TestControlPlane(dir);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Cli.Result ctl(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "ctl";
    System.arraycopy(args, 0, all, 1, args.length);
    return Cli.run(Map.of("INFRAVEIL_CONTEXT", server.context.toString()), all);
  }

  /** Set from a file and from stdin, then list: names and versions, never the value. */
  @Test
  void setFromFileAndStdinThenListShowsVersionsOnly() throws Exception {
    Path file = dir.resolve("pw.txt");
    Files.writeString(file, value);
    Cli.Result set = ctl("secrets", "set", "web", "db_password", "--from-file", file.toString());
    assertEquals(0, set.code(), set::toString);
    assertEquals("secret db_password of deployment web set to version 1\n"
        + "deployment web does not exist yet; it gets the value when it is deployed\n", set.out());

    InputStream stdin = System.in;
    Cli.Result again;
    try {
      System.setIn(new ByteArrayInputStream((value + "-2").getBytes(StandardCharsets.UTF_8)));
      again = ctl("secrets", "set", "web", "db_password", "--from-stdin");
    } finally {
      System.setIn(stdin);
    }
    assertEquals(0, again.code(), again::toString);
    assertTrue(again.out().startsWith("secret db_password of deployment web set to version 2"),
        again::toString);

    Cli.Result table = ctl("secrets", "list", "web");
    assertEquals(0, table.code(), table::toString);
    assertTrue(table.out().startsWith("NAME"), table::toString);
    assertTrue(table.out().lines().anyMatch(l -> l.startsWith("db_password") && l.contains(" 2 ")
        && l.contains("/operator/alice")), table::toString);
    Cli.Result json = ctl("secrets", "list", "web", "-o", "json");
    ListSecretsResponse.Builder parsed = ListSecretsResponse.newBuilder();
    JsonFormat.parser().merge(json.out(), parsed);
    assertEquals(2, parsed.getSecrets(0).getVersion());
    for (Cli.Result r : new Cli.Result[] {set, again, table, json}) {
      assertFalse(r.out().contains(value) || r.err().contains(value), r::toString);
    }
  }

  /** Delete forgets the secret; an empty list says so. */
  @Test
  void deleteForgetsTheSecret() throws Exception {
    Path file = dir.resolve("pw.txt");
    Files.writeString(file, value);
    assertEquals(0, ctl("secrets", "set", "web", "api_key", "--from-file", file.toString()).code());
    Cli.Result deleted = ctl("secrets", "delete", "web", "api_key");
    assertEquals("secret api_key of deployment web deleted\n", deleted.out(), deleted::toString);
    assertEquals("no secrets for deployment web\n", ctl("secrets", "list", "web").out());
    assertEquals("deployment web has no secret api_key\n",
        ctl("secrets", "delete", "web", "api_key").out());
  }

  /** Usage errors exit 2 and send nothing; server refusals exit 1 with the status. */
  @Test
  void refusesMissingSourcesEmptyValuesAndBadNames() throws Exception {
    Cli.Result none = ctl("secrets", "set", "web", "db_password");
    assertEquals(2, none.code(), none::toString);
    assertTrue(none.err().contains("--from-file") && none.err().contains("--from-stdin"),
        none::toString);
    Cli.Result both = ctl("secrets", "set", "web", "db_password", "--from-file", "x",
        "--from-stdin");
    assertEquals(2, both.code(), both::toString);
    Path empty = Files.createFile(dir.resolve("empty"));
    Cli.Result emptyValue = ctl("secrets", "set", "web", "db_password", "--from-file",
        empty.toString());
    assertEquals(2, emptyValue.code(), emptyValue::toString);
    assertTrue(emptyValue.err().contains("is empty; a secret needs a value"), emptyValue::toString);
    Cli.Result missing = ctl("secrets", "set", "web", "db_password", "--from-file",
        dir.resolve("nope").toString());
    assertEquals(2, missing.code(), missing::toString);
    assertTrue(missing.err().contains("no such file"), missing::toString);

    Path file = dir.resolve("pw.txt");
    Files.writeString(file, value);
    Cli.Result badName = ctl("secrets", "set", "web", "DB", "--from-file", file.toString());
    assertEquals(1, badName.code(), badName::toString);
    assertTrue(badName.err().startsWith("error: INVALID_ARGUMENT: secret name \"DB\" is invalid"),
        badName::toString);
    assertEquals("no secrets for deployment web\n", ctl("secrets", "list", "web").out());
  }
}
