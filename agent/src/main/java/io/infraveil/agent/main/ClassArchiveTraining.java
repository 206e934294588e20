package io.infraveil.agent.main;

import io.infraveil.appconfig.AppConfigParser;
import io.infraveil.host.fs.JsonFiles;
import io.infraveil.host.grpc.ControlPlaneChannel;
import io.infraveil.host.grpc.ControlPlaneChannels;
import io.infraveil.host.grpc.HostIdentityFiles;
import io.infraveil.host.jvm.AgentClassArchive;
import io.infraveil.logging.LogFormat;
import io.infraveil.logging.Logging;
import io.infraveil.payload.trust.HostKeys;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * The training run behind {@link AgentClassArchive} ({@value AgentClassArchive#TRAINING_OPTION}):
 * loads what an agent's start loads, without touching any deployment, and returns; the JVM
 * writes the loaded classes to the archive at exit. It configures logging into a temp dir,
 * builds the host's mutual-TLS channel from the data dir's identity when the host is enrolled
 * (no connection is made), reads JSON and a config.yaml, and loads every Infraveil class of the
 * agent's jars.
 */
final class ClassArchiveTraining {

  /** Classes whose jars hold the agent's own code. */
  private static final Class<?>[] OWN_JARS = {ClassArchiveTraining.class,
      ControlPlaneChannels.class, AppConfigParser.class, HostKeys.class, Logging.class,
      io.infraveil.proto.v1.HeartbeatRequest.class};

  private ClassArchiveTraining() {}

  /** Runs the training over the host data dir {@code dataDir}; 0 when it got through. */
  static int run(Path dataDir) throws IOException {
    Path scratch = Files.createTempDirectory("infraveil-class-archive-");
    try {
      Logging.configure("agent", Map.of("deployment", "class-archive-training"),
          LogFormat.LOGFMT, new Logging.RollingFile(scratch.resolve(AgentMain.LOG_FILE),
              Logging.DEFAULT_MAX_BYTES, Logging.DEFAULT_KEEP));
      System.getLogger(ClassArchiveTraining.class.getName()).log(System.Logger.Level.INFO,
          "class archive training");
      HostIdentityFiles identity = HostIdentityFiles.inDataDir(dataDir);
      Optional<HostIdentityFiles.HostInfo> host = identity.isComplete()
          ? identity.readHostInfo() : Optional.empty();
      if (host.isPresent()) {
        ControlPlaneChannel channel = ControlPlaneChannels.mutualTls(host.get().controlPlane(),
            identity, ControlPlaneChannels.Settings.DEFAULTS);
        channel.shutdownNow();
        HostKeys.fromSecret(identity.readSecret());
      }
      Path json = scratch.resolve("training.json");
      JsonFiles.write(json, Map.of("training", true));
      JsonFiles.read(json, Map.class);
      try {
        AppConfigParser.parse("config.yaml", ("services:\n  web:\n    start: ./run\n")
            .getBytes(StandardCharsets.UTF_8));
      } catch (io.infraveil.appconfig.ConfigException ignored) {
        // the parser's classes are loaded either way
      }
      int loaded = loadOwnClasses();
      System.out.println("class archive training: " + loaded + " classes of the agent's jars");
      return 0;
    } finally {
      deleteQuietly(scratch);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      // a temp dir left behind is harmless
    }
  }

  /** Loads (without initializing) every class of the agent's own jars; the count. */
  private static int loadOwnClasses() throws IOException {
    Set<Path> jars = new LinkedHashSet<>();
    for (Class<?> type : OWN_JARS) {
      CodeSource source = type.getProtectionDomain().getCodeSource();
      if (source == null) {
        continue;
      }
      try {
        Path path = Path.of(source.getLocation().toURI());
        if (Files.isRegularFile(path)) {
          jars.add(path);
        }
      } catch (URISyntaxException e) {
        // not a file: nothing to list
      }
    }
    ClassLoader loader = ClassArchiveTraining.class.getClassLoader();
    int count = 0;
    for (Path jar : jars) {
      try (JarFile file = new JarFile(jar.toFile())) {
        for (Enumeration<JarEntry> entries = file.entries(); entries.hasMoreElements(); ) {
          String name = entries.nextElement().getName();
          if (!name.startsWith("io/infraveil/") || !name.endsWith(".class")
              || name.endsWith("module-info.class")) {
            continue;
          }
          try {
            Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false, loader);
            count++;
          } catch (ClassNotFoundException | LinkageError e) {
            // an optional dependency missing here: the agent does not load it either
          }
        }
      }
    }
    return count;
  }
}
