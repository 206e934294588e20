package io.infraveil.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * The release tarball as a user gets it ({@code dist/target/infraveil-VERSION.tar.gz}, built in
 * the same {@code verify}): extracted with {@code tar}, installed with its own
 * {@code install.sh --root}, its programs run through {@code ROOT/usr/local/bin/infraveil}.
 */
final class Release {

  /** What a short command printed (stdout and stderr together) and its exit code. */
  record Result(List<String> command, int code, String output) {
    Result ok() {
      if (code != 0) {
        throw new AssertionError("expected exit 0 from " + this);
      }
      return this;
    }

    @Override
    public String toString() {
      return String.join(" ", command) + " -> exit " + code + "\n" + output;
    }
  }

  private Release() {}

  /** The tarball the build made; fails saying how to make it when it is missing. */
  static Path tarball() {
    String configured = System.getProperty("infraveil.dist.tarball");
    Path tarball = configured == null ? null : Path.of(configured).toAbsolutePath().normalize();
    if (tarball == null || !Files.isRegularFile(tarball)) {
      throw new AssertionError("no release tarball at " + tarball + ": build it with "
          + "`./mvnw -B -Pdist package` (system property infraveil.dist.tarball)");
    }
    return tarball;
  }

  /** {@code tar -xzf TARBALL -C dir}; the release directory it holds. */
  static Path extract(Path dir) throws Exception {
    Files.createDirectories(dir);
    run(List.of("tar", "-xzf", tarball().toString(), "-C", dir.toString()), dir,
        Duration.ofSeconds(60)).ok();
    try (Stream<Path> entries = Files.list(dir)) {
      List<Path> releases = entries.filter(p -> p.getFileName().toString().startsWith("infraveil-"))
          .toList();
      if (releases.size() != 1) {
        throw new AssertionError("expected one infraveil-VERSION directory in the tarball, got "
            + releases);
      }
      return releases.get(0);
    }
  }

  /** {@code RELEASE/install.sh --root ROOT}, which must succeed. */
  static Result install(Path release, Path root) throws Exception {
    return run(List.of(release.resolve("install.sh").toString(), "--root", root.toString()),
        release, Duration.ofSeconds(60)).ok();
  }

  /** {@code ROOT/usr/local/bin/infraveil ARGS...} with this JVM's java and a small heap. */
  static List<String> command(Path root, String... args) {
    List<String> command = new ArrayList<>(List.of("env",
        "JAVA_HOME=" + System.getProperty("java.home"),
        "INFRAVEIL_JAVA_OPTS=-Xmx384m -XX:+UseSerialGC",
        root.resolve("usr/local/bin/infraveil").toString()));
    command.addAll(List.of(args));
    return command;
  }

  /** Runs a command that ends by itself; fails after {@code timeout}. */
  static Result run(List<String> command, Path workDir, Duration timeout) throws Exception {
    Process process = new ProcessBuilder(command).directory(workDir.toFile())
        .redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .start();
    byte[][] output = new byte[1][];
    Thread reader = new Thread(() -> {
      try (InputStream in = process.getInputStream()) {
        output[0] = in.readAllBytes();
      } catch (IOException e) {
        output[0] = ("(output lost: " + e + ")").getBytes(StandardCharsets.UTF_8);
      }
    });
    reader.start();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " still ran after " + timeout);
    }
    reader.join(10_000);
    return new Result(command, process.exitValue(),
        output[0] == null ? "" : new String(output[0], StandardCharsets.UTF_8));
  }

  /**
   * Makes a newer release from {@code release}: a copy with version {@code version} whose
   * launcher jar carries one more entry, so it is another file with other bytes.
   */
  static Path newerRelease(Path release, Path target, String version) throws IOException {
    Cluster.copyTree(release, target);
    Files.writeString(target.resolve("VERSION"), version + "\n");
    Path jar = launcherJar(target);
    Path rewritten = jar.resolveSibling(jar.getFileName() + ".new");
    try (ZipInputStream in = new ZipInputStream(Files.newInputStream(jar));
        ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(rewritten))) {
      for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
        out.putNextEntry(new ZipEntry(entry.getName()));
        in.transferTo(out);
        out.closeEntry();
      }
      out.putNextEntry(new ZipEntry("META-INF/infraveil-release.txt"));
      writeAll(out, version + "\n");
      out.closeEntry();
    }
    Files.move(rewritten, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return target;
  }

  /** {@code RELEASE/lib/host/infraveil-launcher-*.jar}. */
  static Path launcherJar(Path release) throws IOException {
    try (Stream<Path> jars = Files.list(release.resolve("lib/host"))) {
      return jars.filter(p -> p.getFileName().toString().startsWith("infraveil-launcher-"))
          .findFirst().orElseThrow(() -> new AssertionError("no launcher jar in " + release));
    }
  }

  /** Files a process holds open ({@code /proc/PID/fd}), as paths. */
  static List<Path> openFiles(long pid) {
    List<Path> open = new ArrayList<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          open.add(Files.readSymbolicLink(fd));
        } catch (IOException closedMeanwhile) {
          // gone between the listing and the read
        }
      }
    } catch (IOException e) {
      throw new AssertionError("cannot list the open files of pid " + pid, e);
    }
    return open;
  }

  /** The command line of a process, arguments joined by spaces. */
  static String cmdline(long pid) throws IOException {
    byte[] raw = Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"));
    return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').strip();
  }

  private static void writeAll(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
  }
}
