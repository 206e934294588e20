package io.infraveil.agent.secrets;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.infraveil.agent.ServiceSecrets.Prepared;
import io.infraveil.appconfig.AppConfig;
import io.infraveil.appconfig.AppConfigParser;
import io.infraveil.appconfig.ServiceSpec;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretMaterializerTest {

  @TempDir Path dir;

  private static final String CONFIG = """
      services:
        api:
          run: { start: [ "exec sleep 1000" ] }
          secrets:
            - { name: db_password, env: DB_PASSWORD }
            - { name: tls_key, file: tls.key }
        worker:
          run: { start: [ "exec sleep 1000" ] }
      """;

  private static AppConfig parse(String yaml) throws Exception {
    return AppConfigParser.parse("config.yaml", yaml.getBytes(UTF_8));
  }

  private static SecretsFetcher.Result fetched(Map<String, String> values) {
    Map<String, SecretBundle.Value> byName = new java.util.LinkedHashMap<>();
    values.forEach((k, v) -> byName.put(k, new SecretBundle.Value(1, v.getBytes(UTF_8))));
    return new SecretsFetcher.Result(SecretsFetcher.Source.FETCHED,
        Optional.of(new SecretBundle(byName)), "");
  }

  private SecretMaterializer materializer(SecretsFetcher.Result result,
      Function<ServiceSpec, Optional<String>> userOf) {
    return new SecretMaterializer("web", dir.resolve("secrets"), () -> result, userOf);
  }

  /** Env secrets join the service's environment; file secrets are 0400 files in a 0700 dir. */
  @Test
  void exposesSecretsAsEnvironmentAndPrivateFiles() throws Exception {
    Prepared prepared = materializer(fetched(Map.of("db_password", "pw-1", "tls_key", "KEY")),
        spec -> Optional.empty()).prepare(parse(CONFIG));

    ServiceSpec api = prepared.config().orElseThrow().services().get("api");
    assertEquals("pw-1", api.env().get("DB_PASSWORD"));
    Path serviceDir = dir.resolve("secrets/api");
    assertEquals(serviceDir.toAbsolutePath().toString(),
        api.env().get(SecretMaterializer.DIR_VARIABLE));
    Path file = serviceDir.resolve("tls.key");
    assertEquals("KEY", Files.readString(file));
    assertEquals("r--------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals("rwx------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(serviceDir)));
    assertEquals(Map.of(), prepared.config().get().services().get("worker").env(),
        "a service that names no secrets gets none");
    try (var listing = Files.list(serviceDir)) {
      assertEquals(1, listing.count(), "no temp files left behind");
    }
  }

  /** A secret named in config.yaml but not set refuses the start and says how to set it. */
  @Test
  void missingSecretRefusesNamingTheCommandToRun() throws Exception {
    Prepared prepared = materializer(fetched(Map.of("db_password", "pw-1")),
        spec -> Optional.empty()).prepare(parse(CONFIG));

    assertTrue(prepared.config().isEmpty());
    assertEquals("secret tls_key of deployment web is named in config.yaml but not set; set it"
        + " with `infraveil ctl secrets set web tls_key --from-file FILE` (or --from-stdin);"
        + " the deployment restarts when it is set", prepared.problem());
    assertFalse(Files.exists(dir.resolve("secrets/api")), "nothing written for a refused start");
  }

  /** When the bundle cannot be had, the refusal carries the fetch problem. */
  @Test
  void unavailableSecretsRefuseWithTheReason() throws Exception {
    Prepared prepared = materializer(new SecretsFetcher.Result(SecretsFetcher.Source.UNAVAILABLE,
        Optional.empty(), "the control plane is unreachable"), spec -> Optional.empty())
        .prepare(parse(CONFIG));
    assertEquals("the secrets of deployment web are not available on this host: the control"
        + " plane is unreachable", prepared.problem());
  }

  /** A release that names no secrets never asks for them. */
  @Test
  void releaseWithoutSecretsNeverFetches() throws Exception {
    AppConfig plain = parse("services: { api: { run: { start: [ x ] } } }");
    Prepared prepared = new SecretMaterializer("web", dir, () -> {
      throw new AssertionError("fetched without need");
    }, spec -> Optional.empty()).prepare(plain);
    assertEquals(Optional.of(plain), prepared.config());
  }

  /** A value with a NUL byte cannot be an environment variable; the message says to use a file. */
  @Test
  void nulByteCannotBeAnEnvironmentVariable() throws Exception {
    Prepared prepared = materializer(fetched(Map.of("db_password", "a\0b", "tls_key", "K")),
        spec -> Optional.empty()).prepare(parse(CONFIG));
    assertEquals("secret db_password cannot be the environment variable DB_PASSWORD of service"
        + " api: it contains a NUL byte; expose it as a file instead ({name: db_password,"
        + " file: NAME})", prepared.problem());
  }

  /**
   * A start replaces files in place (never a moment without them, for services already
   * running) and removes the ones the release no longer names.
   */
  @Test
  void restartReplacesFilesAndRemovesThoseNoLongerNamed() throws Exception {
    materializer(fetched(Map.of("db_password", "pw", "tls_key", "K")), spec -> Optional.empty())
        .prepare(parse(CONFIG));
    Path stray = Files.writeString(dir.resolve("secrets/api/old.key"), "old");
    Prepared again = materializer(fetched(Map.of("db_password", "pw", "tls_key", "K2")),
        spec -> Optional.empty()).prepare(parse(CONFIG));
    assertTrue(again.config().isPresent(), again.problem());
    assertEquals("K2", Files.readString(dir.resolve("secrets/api/tls.key")));
    assertFalse(Files.exists(stray), "a file no longer named is removed");

    Prepared next = materializer(fetched(Map.of("db_password", "pw")), spec -> Optional.empty())
        .prepare(parse("""
            services:
              api:
                run: { start: [ x ] }
                secrets: [ { name: db_password, env: DB_PASSWORD } ]
            """));
    assertTrue(next.config().isPresent(), next.problem());
    assertFalse(Files.exists(dir.resolve("secrets/api")), "no file secrets, no directory");
  }

  /** With a service user, the files and their directory belong to it (needs root to chown). */
  @Test
  void filesBelongToTheServiceUser() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "chown needs root");
    Prepared prepared = materializer(fetched(Map.of("db_password", "pw", "tls_key", "K")),
        spec -> Optional.of("nobody")).prepare(parse(CONFIG));
    assertTrue(prepared.config().isPresent(), prepared.problem());
    assertEquals("nobody", Files.getOwner(dir.resolve("secrets/api/tls.key"),
        LinkOption.NOFOLLOW_LINKS).getName());
    assertEquals("nobody", Files.getOwner(dir.resolve("secrets/api")).getName());
  }
}
