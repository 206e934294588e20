package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --config accepts nested YAML and .properties alike, and names the file when it is wrong. */
class ConfigFileTest {

  @TempDir Path dir;

  @Test
  void flattensNestedYaml() throws Exception {
    Path file = Files.writeString(dir.resolve("cp.yml"), """
        infraveil:
          join-token-ttl: 2h
          server-name: cp
        grpc.server.port: 9443
        """);
    assertEquals(Map.of("infraveil.join-token-ttl", "2h", "infraveil.server-name", "cp",
        "grpc.server.port", 9443), ConfigFile.read(file));
  }

  @Test
  void readsProperties() throws Exception {
    Path file = Files.writeString(dir.resolve("cp.properties"), "infraveil.server-name=cp\n");
    assertEquals(Map.of("infraveil.server-name", "cp"), ConfigFile.read(file));
  }

  @Test
  void rejectsYamlThatIsNotAMapping() throws Exception {
    Path file = Files.writeString(dir.resolve("cp.yml"), "- a\n- b\n");
    CliException error = assertThrows(CliException.class, () -> ConfigFile.read(file));
    assertTrue(error.getMessage().contains(file.toString()), error.getMessage());
  }

  @Test
  void missingFileNamesIt() {
    CliException error = assertThrows(CliException.class, () -> ConfigFile.read(dir.resolve("nope.yml")));
    assertTrue(error.getMessage().contains("nope.yml"), error.getMessage());
  }
}
