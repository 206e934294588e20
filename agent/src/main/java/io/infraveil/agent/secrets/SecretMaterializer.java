package io.infraveil.agent.secrets;

import io.infraveil.agent.ServiceSecrets;
import io.infraveil.appconfig.AppConfig;
import io.infraveil.appconfig.SecretRef;
import io.infraveil.appconfig.ServiceSpec;
import io.infraveil.host.fs.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Puts a release's secrets in place: {@code env:} entries become environment variables of every
 * command the service runs; {@code file:} entries become files, mode 0400, in
 * {@code <secretsDir>/<service>/} (mode 0700; both owned by the service's user when it has
 * one), named to the service by {@code INFRAVEIL_SECRETS_DIR}. The directory is rewritten on
 * every start, so a file the new release no longer names is gone. A secret that is not set
 * refuses the start, naming it and the command that sets it.
 */
public final class SecretMaterializer implements ServiceSecrets {

  /** The environment variable naming a service's secrets directory. */
  public static final String DIR_VARIABLE = "INFRAVEIL_SECRETS_DIR";

  private final String deployment;
  private final Path secretsDir;
  private final Supplier<SecretsFetcher.Result> source;
  private final Function<ServiceSpec, Optional<String>> userOf;

  /**
   * @param userOf the account a service runs as, when it has one: its secret files are
   *     chowned to it
   */
  public SecretMaterializer(String deployment, Path secretsDir,
      Supplier<SecretsFetcher.Result> source, Function<ServiceSpec, Optional<String>> userOf) {
    this.deployment = Objects.requireNonNull(deployment, "deployment");
    this.secretsDir = Objects.requireNonNull(secretsDir, "secretsDir");
    this.source = Objects.requireNonNull(source, "source");
    this.userOf = Objects.requireNonNull(userOf, "userOf");
  }

  @Override
  public Prepared prepare(AppConfig config) {
    boolean needed = config.services().values().stream().anyMatch(s -> !s.secrets().isEmpty());
    if (!needed) {
      return Prepared.ready(config);
    }
    SecretsFetcher.Result fetched = source.get();
    if (fetched.bundle().isEmpty()) {
      return Prepared.refused("the secrets of deployment " + deployment + " are not available"
          + " on this host: " + fetched.problem());
    }
    SecretBundle bundle = fetched.bundle().get();
    List<String> missing = new ArrayList<>();
    for (ServiceSpec spec : config.services().values()) {
      for (SecretRef ref : spec.secrets()) {
        if (bundle.get(ref.name()).isEmpty() && !missing.contains(ref.name())) {
          missing.add(ref.name());
        }
      }
    }
    if (!missing.isEmpty()) {
      return Prepared.refused(notSet(missing));
    }
    Map<String, ServiceSpec> specs = new LinkedHashMap<>();
    try {
      for (ServiceSpec spec : config.services().values()) {
        specs.put(spec.name(), spec.secrets().isEmpty() ? spec : apply(spec, bundle));
      }
    } catch (RefusedException e) {
      return Prepared.refused(e.getMessage());
    } catch (IOException e) {
      return Prepared.refused("cannot write the secret files of deployment " + deployment
          + " under " + secretsDir + ": " + e.getMessage());
    }
    return Prepared.ready(new AppConfig(specs));
  }

  private String notSet(List<String> missing) {
    StringBuilder text = new StringBuilder();
    text.append(missing.size() == 1 ? "secret " : "secrets ").append(String.join(", ", missing))
        .append(" of deployment ").append(deployment)
        .append(missing.size() == 1 ? " is" : " are")
        .append(" named in config.yaml but not set; set ")
        .append(missing.size() == 1 ? "it" : "each").append(" with `infraveil ctl secrets set ")
        .append(deployment).append(' ').append(missing.get(0))
        .append(" --from-file FILE` (or --from-stdin); the deployment restarts when it is set");
    return text.toString();
  }

  private ServiceSpec apply(ServiceSpec spec, SecretBundle bundle)
      throws IOException, RefusedException {
    Map<String, String> env = new LinkedHashMap<>();
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (SecretRef ref : spec.secrets()) {
      byte[] value = bundle.get(ref.name()).orElseThrow().bytes();
      switch (ref.exposure()) {
        case ENV -> env.put(ref.target(), asEnvironmentValue(spec, ref, value));
        case FILE -> files.put(ref.target(), value);
        default -> throw new AssertionError("unhandled exposure " + ref.exposure());
      }
    }
    Path dir = secretsDir.resolve(spec.name());
    if (!files.isEmpty()) {
      writeFiles(dir, files, owner(spec));
      env.put(DIR_VARIABLE, dir.toAbsolutePath().toString());
    } else {
      deleteTree(dir);
    }
    return spec.withEnv(env);
  }

  private static String asEnvironmentValue(ServiceSpec spec, SecretRef ref, byte[] value)
      throws RefusedException {
    String why = null;
    for (byte b : value) {
      if (b == 0) {
        why = "it contains a NUL byte";
        break;
      }
    }
    if (why == null) {
      try {
        return StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(value)).toString();
      } catch (CharacterCodingException e) {
        why = "it is not UTF-8 text";
      }
    }
    throw new RefusedException("secret " + ref.name() + " cannot be the environment variable "
        + ref.target() + " of service " + spec.name() + ": " + why + "; expose it as a file"
        + " instead ({name: " + ref.name() + ", file: NAME})");
  }

  private Optional<UserPrincipal> owner(ServiceSpec spec) throws IOException {
    Optional<String> user = userOf.apply(spec);
    if (user.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(secretsDir.getFileSystem().getUserPrincipalLookupService()
        .lookupPrincipalByName(user.get()));
  }

  private void writeFiles(Path dir, Map<String, byte[]> files, Optional<UserPrincipal> owner)
      throws IOException {
    Files.createDirectories(secretsDir);
    // Others may pass through to their own service's directory, never list it.
    Files.setPosixFilePermissions(secretsDir, PosixFilePermissions.fromString("rwx--x--x"));
    // Replaced file by file, never emptied first: a service adopted by a restarted agent may
    // read its files at any moment.
    if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      deleteTree(dir);
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rwx------")));
    }
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    for (Map.Entry<String, byte[]> file : files.entrySet()) {
      Path temp = Files.createTempFile(dir, ".secret", ".tmp");
      try {
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
          ByteBuffer buffer = ByteBuffer.wrap(file.getValue());
          while (buffer.hasRemaining()) {
            channel.write(buffer);
          }
          channel.force(true);
        }
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("r--------"));
        if (owner.isPresent()) {
          Files.setOwner(temp, owner.get());
        }
        AtomicFiles.moveDurably(temp, dir.resolve(file.getKey()));
      } finally {
        Files.deleteIfExists(temp);
      }
    }
    try (Stream<Path> present = Files.list(dir)) {
      for (Path stale : present.filter(p -> !files.containsKey(p.getFileName().toString()))
          .toList()) {
        deleteTree(stale);
      }
    }
    if (owner.isPresent()) {
      Files.setOwner(dir, owner.get());
    }
  }

  /** Removes every service's secret files (the deployment stopped here). */
  public void clear() throws IOException {
    deleteTree(secretsDir);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  /** A secret that exists but cannot be exposed the way config.yaml asks. */
  private static final class RefusedException extends Exception {
    RefusedException(String message) {
      super(message);
    }
  }
}
