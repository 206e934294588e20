package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.util.List;
import org.junit.jupiter.api.Test;

/** dev's launcher gets the cli's classpath less the control plane's libraries. */
class HostClasspathTest {

  @Test
  void dropsTheControlPlaneLibrariesAndKeepsTheRestInOrder() {
    String classpath = String.join(File.pathSeparator, List.of(
        "/r/cli/target/classes",
        "/r/controlplane/target/classes",
        "/r/controlplane/target/infraveil-controlplane-0.1.0.jar",
        "/m2/io/micronaut/micronaut-inject-4.10.26.jar",
        "/m2/com/h2database/h2-2.3.232.jar",
        "/m2/org/flywaydb/flyway-core-10.22.0.jar",
        "/m2/com/zaxxer/HikariCP-6.3.3.jar",
        "/lib/grpc-services-1.75.0.jar",
        "/lib/grpc-netty-1.75.0.jar",
        "/r/launcher/target/classes",
        "/lib/jackson-databind-2.21.5.jar"));
    assertEquals(String.join(File.pathSeparator, List.of(
        "/r/cli/target/classes",
        "/lib/grpc-netty-1.75.0.jar",
        "/r/launcher/target/classes",
        "/lib/jackson-databind-2.21.5.jar")), HostClasspath.of(classpath));
  }
}
