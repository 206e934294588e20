package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * controlplane.yaml: a key per flag and per infraveil.* property, flags win, durations in any
 * accepted form reach Micronaut as ISO-8601, and mistakes name file, line and key (exit 2).
 */
class ControlPlaneConfigTest {

  @TempDir Path dir;

  private ControlPlaneCommand parse(String... args) {
    ControlPlaneCommand command = new ControlPlaneCommand();
    new CommandLine(command).parseArgs(args);
    return command;
  }

  @Test
  void fileGivesFlagsAndPropertiesAndFlagsWin() throws Exception {
    Path file = Files.writeString(dir.resolve("controlplane.yaml"), """
        data-dir: /var/lib/infraveil/controlplane
        certs: pki
        grpc-port: 9443
        http-port: 9080
        log-format: json
        retention: 1h30m
        rollout-stuck-after: 5m
        history-batch-size: 500
        http-host: 0.0.0.0
        grpc-host: 10.0.0.5
        """);
    ControlPlaneCommand command = parse("--config", file.toString(), "--http-port", "7999");
    Map<String, Object> properties = command.properties();

    assertEquals(Path.of("/var/lib/infraveil/controlplane"), command.dataDir);
    assertEquals(dir.resolve("pki"), command.certsDir);
    assertEquals(9443, command.grpcPort);
    assertEquals("json", command.logFormat);
    assertEquals(Map.of("infraveil.retention", "PT1H30M", "infraveil.rollout-stuck-after", "PT5M",
        "infraveil.history-batch-size", 500, "infraveil.http-host", "0.0.0.0",
        "grpc.server.host", "10.0.0.5", "infraveil.http-port", 7999), properties);
  }

  @Test
  void databaseKeysReachTheControlPlaneAndTheFlagWins() throws Exception {
    Path file = Files.writeString(dir.resolve("controlplane.yaml"), """
        data-dir: data
        certs: pki
        database: jdbc:postgresql://db.example.com:5432/infraveil
        datasource.username: infraveil
        datasource.password-file: secrets/database-password
        datasource.pool-size: 4
        """);
    Map<String, Object> fromFile = parse("--config", file.toString()).properties();
    assertEquals("jdbc:postgresql://db.example.com:5432/infraveil", fromFile.get("infraveil.datasource.url"));
    assertEquals("infraveil", fromFile.get("infraveil.datasource.username"));
    assertEquals(dir.resolve("secrets/database-password"),
        fromFile.get("infraveil.datasource.password-file"), "relative to the file's directory");
    assertEquals(4, fromFile.get("infraveil.datasource.pool-size"));

    Map<String, Object> flagged = parse("--config", file.toString(), "--database",
        "jdbc:postgresql://other:5432/infraveil").properties();
    assertEquals("jdbc:postgresql://other:5432/infraveil", flagged.get("infraveil.datasource.url"));
  }

  @Test
  void aPasswordInTheDatabaseUrlOnTheCommandLineIsRefused() {
    Cli.Result result = Cli.run("controlplane", "--data-dir", dir.resolve("data").toString(),
        "--certs", dir.resolve("pki").toString(),
        "--database", "jdbc:postgresql://db:5432/infraveil?user=infraveil&password=hunter2");
    assertEquals(2, result.code(), result::toString);
    assertTrue(result.err().contains("--database: the URL holds a password"), result::toString);
    assertTrue(result.err().contains("datasource.password-file"), result::toString);
    assertTrue(!Files.exists(dir.resolve("data")), "nothing started");
  }

  @Test
  void aDatabaseThatCannotBeReachedExitsOneNamingTheUrlAndWhatToCheck() throws Exception {
    int closedPort;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    String url = "jdbc:postgresql://127.0.0.1:" + closedPort + "/infraveil";
    Cli.Result result = Cli.run("controlplane", "--data-dir", dir.resolve("data").toString(),
        "--certs", dir.resolve("pki").toString(), "--grpc-port", "0", "--http-port", "0",
        "--database", url);
    assertEquals(1, result.code(), result::toString);
    assertTrue(result.err().contains("cannot open the database at " + url + ": "), result::toString);
    assertTrue(result.err().contains("INFRAVEIL_DATABASE_PASSWORD"), result::toString);
  }

  @Test
  void mistakesNameFileLineAndKeyAndExitTwo() throws Exception {
    Path file = Files.writeString(dir.resolve("controlplane.yaml"), """
        data-dir: data
        certs: pki
        infraveil:
          join-token-ttl: 2h
        retention: a week
        grpc-prot: 7443
        """);
    Cli.Result result = Cli.run("controlplane", "--config", file.toString());
    assertEquals(2, result.code(), result::toString);
    assertTrue(result.err().contains(file + ":3: infraveil: unknown key; keys are flat: write"
        + " join-token-ttl: at the top level"), result::toString);
    assertTrue(result.err().contains(file + ":5: retention: must be a duration (500ms, 30s, 5m,"
        + " 1h, 2d, 1h30m, a whole number of seconds, or ISO-8601 such as PT30S), got \"a week\""),
        result::toString);
    assertTrue(result.err().contains(file + ":6: grpc-prot: unknown key; did you mean grpc-port?"),
        result::toString);
    assertTrue(!Files.exists(dir.resolve("data")), "nothing started");
  }

  @Test
  void missingDataDirNamesFlagAndKey() {
    Cli.Result result = Cli.run("controlplane", "--certs", dir.toString());
    assertEquals(2, result.code(), result::toString);
    assertTrue(result.err().contains("Missing required option: '--data-dir' (or data-dir: in the"
        + " --config file)"), result::toString);
  }
}
