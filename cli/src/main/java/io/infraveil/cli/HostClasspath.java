package io.infraveil.cli;

import java.io.File;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The classpath {@code dev} gives its launcher (and so the agents, which get the launcher's):
 * this program's classpath less what only the control plane loads, as a release's
 * {@code lib/host} is. On the whole cli classpath a host process opened every control-plane jar
 * (each jar's central directory stays on the heap) and configured Logback from the control
 * plane's logback.xml (the JDK's XML parser, about 500 classes) instead of the host default.
 * The names follow {@code dist.controlplaneGroups} / {@code dist.controlplaneArtifacts} in
 * dist/pom.xml; the cli itself stays, since dev starts the launcher through its Main.
 */
final class HostClasspath {

  /** Jar name prefixes of the control plane's own libraries (dist/pom.xml's lists). */
  private static final List<String> CONTROL_PLANE_JARS = List.of(
      "micronaut-", "h2-", "HikariCP-", "flyway-", "reactor-core-", "reactive-streams-",
      "jakarta.annotation-api-", "jakarta.inject-api-", "infraveil-controlplane-",
      "jackson-dataformat-toml-", "grpc-services-");

  private HostClasspath() {}

  /** {@code classpath} (entries separated by the platform's separator) less the above. */
  static String of(String classpath) {
    return Arrays.stream(classpath.split(File.pathSeparator))
        .filter(entry -> !entry.isEmpty() && !controlPlaneOnly(entry))
        .collect(Collectors.joining(File.pathSeparator));
  }

  private static boolean controlPlaneOnly(String entry) {
    Path path = Path.of(entry).normalize();
    Path name = path.getFileName();
    if (name == null) {
      return false;
    }
    // The control plane's module in a checkout: controlplane/target/classes.
    if (name.toString().equals("classes") && path.getParent() != null
        && path.getParent().getParent() != null
        && path.getParent().getParent().getFileName().toString().equals("controlplane")) {
      return true;
    }
    return CONTROL_PLANE_JARS.stream().anyMatch(name.toString()::startsWith);
  }
}
