package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.ControlPlaneProperties.Property;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The list of {@code infraveil.*} properties is complete: every source file that reads one
 * (a {@code @ConfigurationProperties} class or a {@code @Value("${infraveil...}")}) is among
 * {@link ControlPlaneProperties#READERS}, so controlplane.yaml and docs/configuration.md, which
 * are checked against the list, cannot miss a property.
 */
class ControlPlanePropertiesTest {

  private static final Pattern READS = Pattern.compile(
      "@ConfigurationProperties\\(|@Value\\(\"\\$\\{infraveil\\.|@Property\\(name = \"infraveil\\.");
  private static final Pattern PACKAGE = Pattern.compile("^package ([a-z0-9.]+);", Pattern.MULTILINE);

  @Test
  void everyClassThatReadsAPropertyIsAReader() throws IOException {
    Set<String> readers = new TreeSet<>();
    Path sources = Path.of("src/main/java");
    try (Stream<Path> files = Files.walk(sources)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        String text = Files.readString(file);
        if (READS.matcher(text).find()) {
          Matcher pkg = PACKAGE.matcher(text);
          assertTrue(pkg.find(), file.toString());
          readers.add(pkg.group(1) + "." + file.getFileName().toString().replace(".java", ""));
        }
      }
    }
    Set<String> listed = ControlPlaneProperties.READERS.stream().map(Class::getName)
        .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(readers, listed, "add every class that reads infraveil.* properties to "
        + "ControlPlaneProperties.READERS, then document its keys in docs/configuration.md");
  }

  @Test
  void propertiesCarryNameTypeAndDefault() {
    Map<String, Property> byName = ControlPlaneProperties.all().stream()
        .collect(Collectors.toMap(Property::name, Function.identity()));
    assertEquals(new Property("infraveil.retention", Duration.class, "7d"),
        byName.get("infraveil.retention"));
    assertEquals(new Property("infraveil.join-token-ttl", Duration.class, "1h"),
        byName.get("infraveil.join-token-ttl"));
    assertEquals(new Property("infraveil.max-payload-bytes", long.class, "536870912"),
        byName.get("infraveil.max-payload-bytes"));
    assertEquals(new Property("infraveil.data-dir", Path.class, ""),
        byName.get("infraveil.data-dir"));
    assertEquals(ControlPlaneProperties.all().size(), byName.size(), "no property twice");
    assertTrue(List.of("infraveil.http-host", "infraveil.auth-failure-window",
        "infraveil.max-archive-entries").stream().allMatch(byName::containsKey), byName::toString);
  }
}
