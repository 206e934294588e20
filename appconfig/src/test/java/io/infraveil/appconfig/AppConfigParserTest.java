package io.infraveil.appconfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AppConfigParserTest {

  private static final String SEED = """
      services:
        api:
          instances: 2          # hosts that run it (placement by the control plane)
          clusters: 2           # processes per host, each with INFRAVEIL_CLUSTER_INDEX
          run:
            preflight: [ "bun install --production" ]
            start:     [ "pm2 start dist/server.js --name api" ]
            postflight: [ "pm2 list" ]
          healthcheck:
            cmd: curl -s http://localhost:4000/health
            test: ok            # healthy when the command's output contains this
      """;

  private static AppConfig parse(String yaml) throws ConfigException {
    return AppConfigParser.parse("config.yaml", yaml.getBytes(StandardCharsets.UTF_8));
  }

  private static ConfigException reject(String yaml) {
    return assertThrows(ConfigException.class, () -> parse(yaml));
  }

  // The seed's own example parses into exactly what it says.
  @Test
  void parsesTheSeedExample() throws Exception {
    AppConfig config = parse(SEED);
    assertEquals(List.of("api"), List.copyOf(config.services().keySet()));
    ServiceSpec api = config.services().get("api");
    assertEquals(2, api.instances());
    assertEquals(2, api.clusters());
    assertEquals(List.of("bun install --production"), api.run().preflight());
    assertEquals(List.of("pm2 start dist/server.js --name api"), api.run().start());
    assertEquals(List.of("pm2 list"), api.run().postflight());
    HealthCheckSpec check = api.healthcheck().orElseThrow();
    assertEquals("curl -s http://localhost:4000/health", check.cmd());
    assertEquals(Optional.of("ok"), check.test());
  }

  // Everything left out takes the documented default.
  @Test
  void fillsDefaults() throws Exception {
    ServiceSpec web = parse("""
        services:
          web:
            run:
              start: [ "sleep 1000" ]
            healthcheck:
              cmd: "true"
        """).services().get("web");
    assertEquals(1, web.instances());
    assertEquals(1, web.clusters());
    assertEquals(List.of(), web.run().preflight());
    assertEquals(List.of(), web.run().postflight());
    assertEquals(Duration.ofSeconds(30), web.healthcheck().orElseThrow().interval());
    assertEquals(Duration.ofSeconds(10), web.healthcheck().orElseThrow().timeout());
    assertEquals(Optional.empty(), web.healthcheck().orElseThrow().test());
    assertEquals(Duration.ZERO, web.healthcheck().orElseThrow().startPeriod());
    assertEquals(Map.of(), web.env());
    assertEquals("TERM", web.stopSignal());
    assertEquals(Duration.ofSeconds(10), web.stopTimeout());
  }

  // Extensions are read, durations in every accepted form, and services keep file order.
  @Test
  void readsExtensionsAndKeepsServiceOrder() throws Exception {
    AppConfig config = parse("""
        services:
          zeta:
            run: { start: [ "a" ] }
            stop_signal: SIGINT
            stop_timeout: 2m
            env:
              PORT: 8080
              MODE: prod
          alpha-1:
            run: { start: [ "b" ] }
            healthcheck: { cmd: "c", interval: 500ms, timeout: 1h, start_period: 20s }
            stop_timeout: 7
        """);
    assertEquals(List.of("zeta", "alpha-1"), List.copyOf(config.services().keySet()));
    ServiceSpec zeta = config.services().get("zeta");
    assertEquals("INT", zeta.stopSignal());
    assertEquals(Duration.ofMinutes(2), zeta.stopTimeout());
    assertEquals(List.of("PORT", "MODE"), List.copyOf(zeta.env().keySet()));
    assertEquals("8080", zeta.env().get("PORT"));
    ServiceSpec alpha = config.services().get("alpha-1");
    assertEquals(Duration.ofMillis(500), alpha.healthcheck().orElseThrow().interval());
    assertEquals(Duration.ofHours(1), alpha.healthcheck().orElseThrow().timeout());
    assertEquals(Duration.ofSeconds(20), alpha.healthcheck().orElseThrow().startPeriod());
    assertEquals(Duration.ofSeconds(7), alpha.stopTimeout());
  }

  // resources and user parse into limits (memory in bytes, both unit families) and an account.
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      256Mi      | 268435456
      1Gi        | 1073741824
      500M       | 500000000
      8388608    | 8388608
      """)
  void readsResourcesAndUser(String memory, long bytes) throws Exception {
    ServiceSpec api = parse("""
        services:
          api:
            run: { start: [ "sleep 1000" ] }
            resources: { memory: %s, cpu: 0.5, pids: 512 }
            user: nobody
        """.formatted(memory)).services().get("api");
    assertEquals(bytes, api.resources().memoryBytes().getAsLong());
    assertEquals(0.5, api.resources().cpus().getAsDouble());
    assertEquals(512, api.resources().pids().getAsLong());
    assertEquals(Optional.of("nobody"), api.user());
  }

  // Without resources and user a service is unlimited and runs as the agent's account.
  @Test
  void resourcesAndUserDefaultToNone() throws Exception {
    ServiceSpec api = parse("services: { api: { run: { start: [x] }, resources: {} } }")
        .services().get("api");
    assertTrue(api.resources().isEmpty());
    assertEquals(Optional.empty(), api.user());
    assertEquals("256Mi", ResourcesSpec.formatBytes(268435456L));
    assertEquals("1000", ResourcesSpec.formatBytes(1000L));
  }

  // Each bad input is refused with the line and field path that hold the mistake.
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      clusters not a number     | clusters: two             | 4 | services.api.clusters           | must be a positive integer, got "two"
      clusters zero             | clusters: 0               | 4 | services.api.clusters           | must be between 1 and 64, got 0
      instances too many        | instances: 65             | 4 | services.api.instances          | must be between 1 and 64, got 65
      instances a list          | instances: [1]            | 4 | services.api.instances          | must be a positive integer, got a list
      unknown service key       | replicas: 3               | 4 | services.api.replicas           | unknown key; allowed keys: instances, clusters, run, healthcheck, env, stop_signal, stop_timeout, resources, user, secrets, ports
      bad stop signal           | stop_signal: PAUSE        | 4 | services.api.stop_signal        | must be one of [HUP, INT, KILL, QUIT, TERM, USR1, USR2], got "PAUSE"
      bad stop timeout          | stop_timeout: soon        | 4 | services.api.stop_timeout       | must be a duration (500ms, 30s, 5m, 1h, 2d, 1h30m, a whole number of seconds, or ISO-8601 such as PT30S), got "soon"
      zero stop timeout         | stop_timeout: 0s          | 4 | services.api.stop_timeout       | must be greater than zero, got "0s"
      healthcheck without cmd   | healthcheck: { test: ok } | 4 | services.api.healthcheck.cmd    | is required in a healthcheck
      healthcheck bad interval  | healthcheck: { cmd: x, interval: 3w } | 4 | services.api.healthcheck.interval | must be a duration (500ms, 30s, 5m, 1h, 2d, 1h30m, a whole number of seconds, or ISO-8601 such as PT30S), got "3w"
      healthcheck unknown key   | healthcheck: { cmd: x, retries: 3 } | 4 | services.api.healthcheck.retries | unknown key; allowed keys: cmd, test, interval, timeout, start_period
      env reserved name         | env: { INFRAVEIL_X: 1 }   | 4 | services.api.env.INFRAVEIL_X    | the INFRAVEIL_ prefix is reserved
      env bad name              | env: { 9LIVES: 1 }        | 4 | services.api.env.9LIVES         | environment variable names are letters, digits and underscores, not starting with a digit
      env nested value          | env: { A: [1] }           | 4 | services.api.env.A              | must be a plain value, got a list
      env not a mapping         | env: [ A ]                | 4 | services.api.env                | must be a mapping, got a list
      memory without unit word  | 'resources: { memory: lots }' | 4 | services.api.resources.memory | must be a size such as "256Mi", "1Gi", "500M" or a number of bytes, got "lots"
      memory too small          | 'resources: { memory: 1Mi }'  | 4 | services.api.resources.memory | must be at least 4Mi, got "1Mi"
      memory lower-case unit    | 'resources: { memory: 256mi }' | 4 | services.api.resources.memory | must be a size such as "256Mi", "1Gi", "500M" or a number of bytes, got "256mi"
      cpu a word                | 'resources: { cpu: half }'    | 4 | services.api.resources.cpu    | must be a number of cores between 0.01 and 1024 (0.5 = half a core), got "half"
      cpu zero                  | 'resources: { cpu: 0 }'       | 4 | services.api.resources.cpu    | must be a number of cores between 0.01 and 1024 (0.5 = half a core), got "0"
      pids zero                 | 'resources: { pids: 0 }'      | 4 | services.api.resources.pids   | must be between 1 and 4194304, got 0
      resources unknown key     | 'resources: { disk: 1Gi }'    | 4 | services.api.resources.disk   | unknown key; allowed keys: memory, cpu, pids
      resources a list          | 'resources: [ 1 ]'            | 4 | services.api.resources        | must be a mapping, got a list
      user with a space         | 'user: "web user"'            | 4 | services.api.user             | must be an account name (lower-case letters, digits, _ . -, at most 32 characters), got "web user"
      user a list               | 'user: [ a ]'                 | 4 | services.api.user             | must be a non-empty string, got a list
      """)
  void rejectsBadServiceFieldWithLineAndPath(String label, String extraLine, int line,
      String path, String message) {
    ConfigException e = reject("""
        services:
          api:
            run: { start: [ "sleep 1000" ] }
            %s
        """.formatted(extraLine));
    assertEquals(List.of(new ConfigProblem("config.yaml", line, path, message)), e.problems());
    assertEquals("config.yaml:" + line + ": " + path + ": " + message, e.getMessage());
  }

  // Structural mistakes (no services, bad names, missing or empty start, bad run lists).
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      unknown top key     | 'services: { a: { run: { start: [x] } } }\ndeploy: 1' | 2 | deploy                       | unknown key; allowed keys: services, rollout, overrides
      no services key     | '{}'                                                  | 1 | services                      | is required: at least one service
      services empty      | 'services: {}'                                        | 1 | services                      | must name at least one service
      services a list     | 'services: [a]'                                       | 1 | services                      | must be a mapping, got a list
      upper-case name     | 'services: { Api: { run: { start: [x] } } }'          | 1 | services.Api                  | service name must be lower-case letters, digits and dashes, starting with a letter or digit, at most 63 characters
      no run              | 'services: { api: { clusters: 1 } }'                  | 1 | services.api.run              | is required, with at least one start command
      empty start         | 'services: { api: { run: { start: [] } } }'           | 1 | services.api.run.start        | needs at least one command
      start a string      | 'services: { api: { run: { start: go } } }'           | 1 | services.api.run.start        | must be a list of shell commands, got "go"
      blank command       | 'services: { api: { run: { start: [x, ""] } } }'      | 1 | services.api.run.start[1]     | must be a non-empty string, got ""
      unknown run key     | 'services: { api: { run: { start: [x], stop: [y] } } }' | 1 | services.api.run.stop        | unknown key; allowed keys: preflight, start, postflight
      top level a list    | '- a'                                                 | 1 | (top level)                   | must be a mapping, got a list
      """)
  void rejectsBadStructureWithLineAndPath(String label, String yaml, int line, String path,
      String message) {
    ConfigException e = reject(yaml);
    assertEquals(List.of(new ConfigProblem("config.yaml", line, path, message)), e.problems());
  }

  // Every problem in the file is reported at once, in file order, each with its own line.
  @Test
  void reportsAllProblemsTogether() {
    ConfigException e = reject("""
        services:
          api:
            clusters: two
            run:
              start: []
            healthcheck:
              cmd: check
              timeout: forever
          Web:
            run: { start: [ x ] }
            colour: blue
        """);
    assertEquals(List.of(
        new ConfigProblem("config.yaml", 3, "services.api.clusters",
            "must be a positive integer, got \"two\""),
        new ConfigProblem("config.yaml", 5, "services.api.run.start", "needs at least one command"),
        new ConfigProblem("config.yaml", 8, "services.api.healthcheck.timeout",
            "must be a duration (" + Durations.ACCEPTED_FORMS + "), got \"forever\""),
        new ConfigProblem("config.yaml", 9, "services.Web", "service name must be lower-case"
            + " letters, digits and dashes, starting with a letter or digit, at most 63"
            + " characters"),
        new ConfigProblem("config.yaml", 11, "services.Web.colour", "unknown key; allowed keys:"
            + " instances, clusters, run, healthcheck, env, stop_signal, stop_timeout, resources, user, secrets, ports")),
        e.problems());
    assertEquals(5, e.getMessage().lines().count());
  }

  // The rollout block is read field by field; an absent block or field sets nothing.
  @Test
  void readsTheRolloutBlock() throws Exception {
    AppConfig config = parse("""
        services:
          api: { run: { start: [ x ] } }
        rollout:
          max_parallel: 2
          canary: 1
          min_healthy_time: 5s
          healthy_deadline: 2m
          auto_promote: true
        """);
    RolloutSpec r = config.rollout();
    assertEquals(Optional.of(2), r.maxParallel());
    assertEquals(Optional.of(1), r.canary());
    assertEquals(Optional.of(Duration.ofSeconds(5)), r.minHealthyTime());
    assertEquals(Optional.of(Duration.ofMinutes(2)), r.healthyDeadline());
    assertEquals(Optional.of(true), r.autoPromote());
    assertEquals(Optional.empty(), r.autoRevert());
    assertEquals(RolloutSpec.NONE, parse("services: { api: { run: { start: [x] } } }").rollout());
  }

  // Each bad rollout field is reported with its line and path, with the others.
  @Test
  void rejectsBadRolloutFieldsWithLineAndPath() {
    ConfigException e = reject("""
        services:
          api: { run: { start: [ x ] } }
        rollout:
          max_parallel: 0
          canary: -1
          min_healthy_time: 30s
          healthy_deadline: 10s
          auto_revert: maybe
          surge: 2
        """);
    assertEquals(List.of(
        new ConfigProblem("config.yaml", 9, "rollout.surge", "unknown key; allowed keys: max_parallel, canary,"
            + " min_healthy_time, healthy_deadline, auto_promote, auto_revert"),
        new ConfigProblem("config.yaml", 4, "rollout.max_parallel", "must be between 1 and 10000, got 0"),
        new ConfigProblem("config.yaml", 5, "rollout.canary", "must be an integer between 0 and 10000, got \"-1\""),
        new ConfigProblem("config.yaml", 7, "rollout.healthy_deadline", "must be longer than"
            + " rollout.min_healthy_time (\"30s\"): a host could never count as healthy in time"),
        new ConfigProblem("config.yaml", 8, "rollout.auto_revert", "must be true or false, got \"maybe\"")),
        e.problems());
  }

  // A duplicated key is an error naming both lines, not a silent override.
  @Test
  void rejectsDuplicateKeys() {
    ConfigException e = reject("""
        services:
          api:
            run: { start: [ a ] }
            clusters: 2
            clusters: 3
        """);
    assertEquals(List.of(new ConfigProblem("config.yaml", 5, "services.api.clusters",
        "duplicate key; first defined on line 4")), e.problems());
  }

  // Broken YAML is refused with the line of the syntax error.
  @Test
  void rejectsYamlSyntaxErrorWithLine() {
    ConfigException e = reject("""
        services:
          api:
            run: { start: [ a ]
            clusters: 2
        """);
    assertEquals(1, e.problems().size());
    ConfigProblem problem = e.problems().get(0);
    assertEquals(4, problem.line());
    assertEquals("", problem.fieldPath());
    assertTrue(problem.message().startsWith("YAML syntax error: "), problem.message());
  }

  // An empty file is refused rather than read as "no services".
  @Test
  void rejectsEmptyFile() {
    ConfigException e = reject("# nothing here\n");
    assertEquals("config.yaml: file is empty; it needs a services mapping with at least one"
        + " service", e.getMessage());
  }

  // Files over 1 MiB are refused before parsing, both from bytes and from disk.
  @Test
  void rejectsFilesOverOneMebibyte(@TempDir Path dir) throws Exception {
    byte[] big = new byte[AppConfigParser.MAX_BYTES + 1];
    java.util.Arrays.fill(big, (byte) '#');
    ConfigException fromBytes = assertThrows(ConfigException.class,
        () -> AppConfigParser.parse("config.yaml", big));
    assertEquals("config.yaml: file is 1048577 bytes, larger than the limit of 1048576 bytes",
        fromBytes.getMessage());
    Path file = dir.resolve("config.yaml");
    Files.write(file, big);
    ConfigException fromFile = assertThrows(ConfigException.class,
        () -> AppConfigParser.parse(file));
    assertEquals(fromBytes.getMessage(), fromFile.getMessage());
  }

  // Reading from disk names the file by its own name.
  @Test
  void parsesFromFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("config.yaml");
    Files.writeString(file, SEED);
    assertEquals(2, AppConfigParser.parse(file).services().get("api").clusters());
  }

  // Secrets: each entry names a secret and exactly one way the service sees it.
  @Test
  void readsSecretsAsEnvironmentVariablesAndFiles() throws Exception {
    AppConfig config = parse("""
        services:
          api:
            run: { start: [ "sleep 1000" ] }
            env: { PORT: "8080" }
            secrets:
              - name: db_password
                env: DB_PASSWORD
              - { name: tls_key, file: tls.key }
              - { name: db_password, file: db.pass }
        """);
    ServiceSpec api = config.services().get("api");
    assertEquals(List.of(
        new SecretRef("db_password", SecretRef.Exposure.ENV, "DB_PASSWORD"),
        new SecretRef("tls_key", SecretRef.Exposure.FILE, "tls.key"),
        new SecretRef("db_password", SecretRef.Exposure.FILE, "db.pass")), api.secrets());
    assertEquals(List.of(), parse(SEED).services().get("api").secrets());
  }

  // Each bad secrets entry is refused with its line and field path.
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      not a list          | 'secrets: { db: X }'                          | 4 | services.api.secrets          | must be a list of {name, env} or {name, file} entries, got a mapping
      entry a string      | 'secrets: [ db_password ]'                    | 4 | services.api.secrets[0]       | must be a mapping, got "db_password"
      no name             | 'secrets: [ { env: DB } ]'                    | 4 | services.api.secrets[0].name  | is required: the name given to `infraveil ctl secrets set`
      bad name            | 'secrets: [ { name: Db.Pass, env: DB } ]'     | 4 | services.api.secrets[0].name  | secret names are lower-case letters, digits, '_' and '-', starting with a letter or digit, at most 63 characters, got "Db.Pass"
      neither env nor file | 'secrets: [ { name: db } ]'                  | 4 | services.api.secrets[0]       | needs exactly one of env (an environment variable name) or file (a file name in INFRAVEIL_SECRETS_DIR)
      both env and file   | 'secrets: [ { name: db, env: DB, file: db } ]' | 4 | services.api.secrets[0]      | needs exactly one of env (an environment variable name) or file (a file name in INFRAVEIL_SECRETS_DIR)
      unknown key         | 'secrets: [ { name: db, env: DB, mode: 1 } ]' | 4 | services.api.secrets[0].mode  | unknown key; allowed keys: name, env, file
      reserved env        | 'secrets: [ { name: db, env: INFRAVEIL_DB } ]' | 4 | services.api.secrets[0].env  | the INFRAVEIL_ prefix is reserved
      bad env name        | 'secrets: [ { name: db, env: 1DB } ]'         | 4 | services.api.secrets[0].env   | environment variable names are letters, digits and underscores, not starting with a digit
      path as file        | 'secrets: [ { name: db, file: ../etc/x } ]'   | 4 | services.api.secrets[0].file  | must be a plain file name (letters, digits, '.', '_', '-'; no '/'; at most 128 characters), got "../etc/x"
      dot-dot file        | 'secrets: [ { name: db, file: .. } ]'         | 4 | services.api.secrets[0].file  | must be a plain file name (letters, digits, '.', '_', '-'; no '/'; at most 128 characters), got ".."
      env twice           | 'secrets: [ { name: a, env: DB }, { name: b, env: DB } ]' | 4 | services.api.secrets[1].env | env DB is already used by services.api.secrets[0]
      env also plain      | 'secrets: [ { name: a, env: PORT } ]'         | 4 | services.api.secrets[0].env   | PORT is also set in env: a variable comes from one place
      """)
  void rejectsBadSecretsWithLineAndPath(String label, String entry, int line, String path,
      String message) {
    ConfigException e = reject("""
        services:
          api:
            run: { start: [ "sleep 1000" ] }
            %s
            env: { PORT: "1" }
        """.formatted(entry));
    assertEquals(List.of(new ConfigProblem("config.yaml", line, path, message)), e.problems());
  }

  // A spec's text names environment variables but never their values (secrets end up there).
  @Test
  void specTextHidesEnvironmentValues() throws Exception {
    ServiceSpec api = parse("""
        services:
          api:
            run: { start: [ "sleep 1000" ] }
            env: { PORT: "8080" }
        """).services().get("api").withEnv(Map.of("DB_PASSWORD", "hunter2"));
    assertEquals("hunter2", api.env().get("DB_PASSWORD"));
    assertTrue(api.toString().contains("DB_PASSWORD"), api.toString());
    assertTrue(!api.toString().contains("hunter2") && !api.toString().contains("8080"),
        api.toString());
  }

  // A "billion laughs" file: nine levels of nine aliases would expand to 9^9 strings.
  @Test
  void refusesAnAliasBombNamingTheLineOfTheAliasPastTheLimit() {
    StringBuilder yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (char level = 'b'; level <= 'i'; level++) {
      String previous = "*" + (char) (level - 1);
      yaml.append(level).append(": &").append(level).append(" [")
          .append(String.join(",", java.util.Collections.nCopies(9, previous))).append("]\n");
    }
    yaml.append("services: {}\n");

    ConfigException e = reject(yaml.toString());

    assertEquals(1, e.problems().size(), e.getMessage());
    ConfigProblem problem = e.problems().get(0);
    // Aliases 1-9 are on line 2 (level b), 10-18 on line 3, the 21st on line 4.
    assertEquals(4, problem.line(), problem.toString());
    assertTrue(problem.message().startsWith("alias *c is alias number 21 of a mapping or list; at most 20"),
        problem.message());
  }

  // Reuse within the limit is fine: aliases are a YAML feature, not an attack.
  @Test
  void acceptsAFewAliases() throws Exception {
    AppConfig config = parse("""
        services:
          api:
            run: &run
              start: [ "sleep 1000" ]
          worker:
            run: *run
        """);
    assertEquals(List.of("sleep 1000"), config.services().get("worker").run().start());
  }

  @Test
  void saysWhenConfigYamlIsASymlink(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("real.yaml"), SEED);
    Path file = Files.createSymbolicLink(dir.resolve("config.yaml"), Path.of("real.yaml"));

    ConfigException e = assertThrows(ConfigException.class, () -> AppConfigParser.parse(file));

    assertEquals("config.yaml: is a symlink (to 'real.yaml'), not a regular file: put the file itself"
        + " at the payload root", e.getMessage());
  }

  @Test
  void saysWhenConfigYamlIsADanglingSymlinkInsteadOfEmpty(@TempDir Path dir) throws Exception {
    Path file = Files.createSymbolicLink(dir.resolve("config.yaml"), Path.of("missing.yaml"));

    ConfigException e = assertThrows(ConfigException.class, () -> AppConfigParser.parse(file));

    assertTrue(e.getMessage().contains("is a symlink (to 'missing.yaml')"), e.getMessage());
  }

  // ports: a list of names is chosen by the agent; a mapping fixes numbers (or says auto).
  @Test
  void parsesDynamicAndFixedPorts() throws Exception {
    AppConfig config = parse("""
        services:
          api:
            run: { start: [ "./api" ] }
            ports: [ http, admin ]
          web:
            run: { start: [ "./web" ] }
            ports: { http: 8080, metrics: auto }
        """);
    assertEquals(List.of(PortSpec.dynamic("http"), PortSpec.dynamic("admin")),
        config.services().get("api").ports());
    assertEquals(List.of(new PortSpec("http", java.util.OptionalInt.of(8080)),
        PortSpec.dynamic("metrics")), config.services().get("web").ports());
    assertEquals("INFRAVEIL_PORT_ADMIN", PortSpec.dynamic("admin").envName());
    assertEquals(List.of(), parse(SEED).services().get("api").ports());
  }

  @Test
  void refusesBadPortsWithLineAndField() {
    ConfigException e = reject("""
        services:
          api:
            run: { start: [ "./api" ] }
            ports: [ http, Admin, http ]
          web:
            run: { start: [ "./web" ] }
            ports: { http: 70000 }
          db:
            run: { start: [ "./db" ] }
            ports: 5432
        """);
    List<String> lines = e.problems().stream().map(ConfigProblem::toString).toList();
    assertEquals(List.of(
        "config.yaml:4: services.api.ports[2]: port http is named twice",
        "config.yaml:4: services.api.ports.Admin: port names are lower-case letters, digits and"
            + " underscores, starting with a letter, at most 31 characters (the service reads"
            + " INFRAVEIL_PORT_<NAME>)",
        "config.yaml:7: services.web.ports.http: must be a port number 1..65535 or auto, got"
            + " \"70000\"",
        "config.yaml:10: services.db.ports: must be a list of port names ([http, admin]) or a"
            + " mapping of names to fixed ports ({http: 8080}) or auto, got \"5432\""), lines);
  }
}
