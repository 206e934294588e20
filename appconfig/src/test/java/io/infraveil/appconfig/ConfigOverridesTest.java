package io.infraveil.appconfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigOverridesTest {

  private static final String BASE = """
      services:
        api:
          run:
            preflight: [ "./prepare" ]
            start: [ "./api" ]
          env:
            REGION: local
            MODE: plain
          stop_timeout: 5s
        worker:
          run:
            start: [ "./worker" ]
      overrides:
        provider=aws:
          services:
            api:
              env: { REGION: eu-west-1 }
              run: { start: [ "./api --aws" ] }
        provider=aws,zone=b:
          services:
            api:
              env: { REGION: eu-west-2 }
              stop_timeout: 20s
      """;

  private static AppConfig parse(String yaml) throws ConfigException {
    return AppConfigParser.parse("config.yaml", yaml.getBytes(StandardCharsets.UTF_8));
  }

  // A host whose labels match gets the override's env and start command; the rest of the
  // service (preflight, other env, other services) stays as in the base.
  @Test
  void matchingOverrideChangesEnvAndCommandOnly() throws Exception {
    AppConfig base = parse(BASE);
    AppConfig aws = ConfigOverrides.mergedFor(base, Map.of("provider", "aws", "zone", "a"));
    ServiceSpec api = aws.services().get("api");
    assertEquals(Map.of("REGION", "eu-west-1", "MODE", "plain"), api.env());
    assertEquals(List.of("./api --aws"), api.run().start());
    assertEquals(List.of("./prepare"), api.run().preflight());
    assertEquals(java.time.Duration.ofSeconds(5), api.stopTimeout());
    assertEquals(base.services().get("worker"), aws.services().get("worker"));
    // the base is untouched
    assertEquals(List.of("./api"), base.services().get("api").run().start());
    assertEquals("local", base.services().get("api").env().get("REGION"));
  }

  // Several matching overrides apply in file order, the later winning key by key.
  @Test
  void laterMatchingOverrideWins() throws Exception {
    AppConfig merged = ConfigOverrides.mergedFor(parse(BASE),
        Map.of("provider", "aws", "zone", "b"));
    ServiceSpec api = merged.services().get("api");
    assertEquals("eu-west-2", api.env().get("REGION"));
    assertEquals(List.of("./api --aws"), api.run().start());
    assertEquals(java.time.Duration.ofSeconds(20), api.stopTimeout());
    assertEquals(List.of(Map.of("provider", "aws"), Map.of("provider", "aws", "zone", "b")),
        merged.overrides().matching(Map.of("provider", "aws", "zone", "b")));
  }

  // No match (or a partial match of a selector) gives the base back, unchanged.
  @Test
  void noMatchReturnsTheBase() throws Exception {
    AppConfig base = parse(BASE);
    assertSame(base, ConfigOverrides.mergedFor(base, Map.of("provider", "gcp", "zone", "b")));
    assertSame(base, ConfigOverrides.mergedFor(base, Map.of()));
    AppConfig plain = parse("services: { a: { run: { start: [x] } } }");
    assertTrue(plain.overrides().isEmpty());
    assertSame(plain, ConfigOverrides.mergedFor(plain, Map.of("provider", "aws")));
  }

  // Merging is repeatable: the result of a merge merged again for the same host is equal.
  @Test
  void mergeIsPureAndRepeatable() throws Exception {
    AppConfig base = parse(BASE);
    Map<String, String> labels = Map.of("provider", "aws");
    AppConfig once = ConfigOverrides.mergedFor(base, labels);
    assertEquals(once.services(), ConfigOverrides.mergedFor(base, labels).services());
    assertEquals(once.services(), ConfigOverrides.mergedFor(once, labels).services());
  }

  @Test
  void parsesSelectors() {
    assertEquals(Map.of("provider", "aws", "zone", "a"),
        ConfigOverrides.parseSelector("provider=aws, zone=a"));
    assertEquals("provider=aws,zone=a",
        ConfigOverrides.selectorText(Map.of("zone", "a", "provider", "aws")));
    for (String bad : List.of("", "provider", "=aws", "provider=", "a=b=c", "a=1,,b=2")) {
      assertThrows(IllegalArgumentException.class, () -> ConfigOverrides.parseSelector(bad), bad);
    }
    IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
        () -> ConfigOverrides.parseSelector("zone=a,zone=b"));
    assertTrue(twice.getMessage().contains("label zone is given twice"), twice.getMessage());
  }

  // A bad value inside an override is reported with the override's line and its selector.
  @Test
  void badOverrideValueNamesFileLineAndField() {
    ConfigException e = assertThrows(ConfigException.class, () -> parse("""
        services:
          api:
            run: { start: [ "./api" ] }
        overrides:
          provider=aws:
            services:
              api:
                stop_timeout: soon
        """));
    assertEquals(1, e.problems().size(), e.getMessage());
    ConfigProblem p = e.problems().get(0);
    assertEquals("config.yaml", p.file());
    assertEquals(8, p.line());
    assertEquals("services.api.stop_timeout", p.fieldPath());
    assertTrue(p.message().startsWith("overrides.provider=aws: must be a duration"), p.message());
  }

  // Structural mistakes of the block itself: each named with its line.
  @Test
  void refusesBadSelectorsUnknownServicesAndInstances() {
    ConfigException e = assertThrows(ConfigException.class, () -> parse("""
        services:
          api:
            run: { start: [ "./api" ] }
        overrides:
          zone=a,zone=b:
            services: { api: { env: { A: "1" } } }
          provider=aws:
            services:
              web: { env: { A: "1" } }
          provider=gcp:
            services:
              api: { instances: 3, replicas: 2 }
          region=eu:
            rollout: {}
        """));
    List<String> lines = e.problems().stream().map(ConfigProblem::toString).toList();
    assertEquals(6, lines.size(), e.getMessage());
    assertTrue(lines.get(0).startsWith("config.yaml:5: overrides.zone=a,zone=b: label zone is given"
        + " twice"), lines.get(0));
    assertTrue(lines.get(1).startsWith("config.yaml:9: overrides.provider=aws.services.web:"
        + " names no service of the base config (api)"), lines.get(1));
    assertTrue(lines.get(2).startsWith("config.yaml:12: overrides.provider=gcp.services.api"
        + ".replicas: unknown key"), lines.get(2));
    assertTrue(lines.get(3).startsWith("config.yaml:12: overrides.provider=gcp.services.api"
        + ".instances: cannot be overridden per host"), lines.get(3));
    assertTrue(lines.get(4).startsWith("config.yaml:14: overrides.region=eu.rollout: unknown"
        + " key; allowed keys: services"), lines.get(4));
    assertTrue(lines.get(5).startsWith("config.yaml:14: overrides.region=eu.services: is required"),
        lines.get(5));
  }
}
