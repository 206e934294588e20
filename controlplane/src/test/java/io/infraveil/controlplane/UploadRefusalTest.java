package io.infraveil.controlplane;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.controlplane.payloads.PayloadFiles;
import io.infraveil.payload.archive.ExtractionLimits;
import io.infraveil.payload.archive.InvalidArchiveException;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.proto.v1.ListDeploymentsRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every archive a host refuses to extract is refused at upload, over real mTLS gRPC, with the
 * message the host's extraction gives, and nothing is stored.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UploadRefusalTest {

  private static final long MAX_EXTRACTED = 64 * 1024;
  private static final String CONFIG = "services:\n  api:\n    run:\n      start: [ \"sleep 1000\" ]\n";

  @TempDir static Path dir;
  OpsHarness harness;

  @BeforeAll
  void start() throws Exception {
    // A small expansion limit, the same one the host-side extraction below is given.
    harness = new OpsHarness(dir, Map.of("infraveil.max-extracted-bytes", MAX_EXTRACTED));
  }

  @AfterAll
  void stop() throws Exception {
    harness.close();
  }

  interface TarWriter {
    void write(TarArchiveOutputStream tar) throws IOException;
  }

  static Stream<Arguments> refusedArchives() {
    return Stream.of(
        Arguments.of("symlink escaping the root", (TarWriter) tar -> symlink(tar, "lib/out", "../../etc")),
        Arguments.of("absolute symlink", (TarWriter) tar -> symlink(tar, "passwd", "/etc/passwd")),
        Arguments.of("write through a planted symlink", (TarWriter) tar -> {
          symlink(tar, "sub", "inner");
          dir(tar, "inner/");
          file(tar, "sub/x", "through the link");
        }),
        Arguments.of("hard link to outside", (TarWriter) tar -> link(tar, "hard", "../../etc/passwd")),
        Arguments.of("hard link to nothing extracted", (TarWriter) tar -> link(tar, "hard", "later.txt")),
        Arguments.of("fifo", (TarWriter) tar -> special(tar, "run/pipe", TarConstants.LF_FIFO)),
        Arguments.of("block device", (TarWriter) tar -> special(tar, "dev/sda", TarConstants.LF_BLK)),
        Arguments.of("character device", (TarWriter) tar -> special(tar, "dev/tty", TarConstants.LF_CHR)),
        Arguments.of("path escaping the root", (TarWriter) tar -> file(tar, "../evil", "x")),
        Arguments.of("absolute path", (TarWriter) tar -> file(tar, "/tmp/evil", "x")),
        Arguments.of("duplicate path", (TarWriter) tar -> file(tar, "./config.yaml", CONFIG)),
        Arguments.of("expands past the limit", (TarWriter) tar -> file(tar, "zeros.bin",
            "\0".repeat((int) MAX_EXTRACTED))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedArchives")
  void refusedAtUploadWithTheHostsMessage(String what, TarWriter bad) throws Exception {
    byte[] archive = tarGz(tar -> {
      file(tar, "config.yaml", CONFIG);
      bad.write(tar);
    });
    String hostMessage = hostRefusal(archive);
    long storedBefore = payloadFiles();

    var refused = assertThrows(StatusRuntimeException.class, () -> harness.upload(archive, "v1", what));

    assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
    String description = refused.getStatus().getDescription();
    assertTrue(description.startsWith("payload " + what + " refused, nothing was stored or deployed; hosts"
        + " would refuse to extract it: "), description);
    assertTrue(description.endsWith(hostMessage), "host said: " + hostMessage + "\nupload said: " + description);
    assertEquals(storedBefore, payloadFiles(), "nothing is stored or left in the spool");
    assertEquals(0, harness.operator().listDeployments(ListDeploymentsRequest.getDefaultInstance())
        .getDeploymentsCount());
  }

  @Test
  void aSymlinkedConfigYamlIsRefusedAsASymlink() throws Exception {
    byte[] archive = tarGz(tar -> {
      file(tar, "real.yaml", CONFIG);
      symlink(tar, "config.yaml", "real.yaml");
    });

    var refused = assertThrows(StatusRuntimeException.class, () -> harness.upload(archive, "v1", "linked"));

    assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().endsWith("config.yaml at the payload root is a symlink"
        + " (to 'real.yaml'); it must be a regular file: copy the file there instead of linking it"),
        refused.getStatus().getDescription());
  }

  @Test
  void anAliasBombIsRefusedWithItsLine() throws Exception {
    StringBuilder yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (char level = 'b'; level <= 'i'; level++) {
      yaml.append(level).append(": &").append(level).append(" [")
          .append(String.join(",", java.util.Collections.nCopies(9, "*" + (char) (level - 1)))).append("]\n");
    }
    byte[] archive = tarGz(tar -> file(tar, "config.yaml", yaml.toString()));

    var refused = assertThrows(StatusRuntimeException.class, () -> harness.upload(archive, "v1", "laughs"));

    assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().contains("config.yaml:4: alias *c is alias number 21"),
        refused.getStatus().getDescription());
  }

  @Test
  void aPackedApplicationIsStillAccepted() throws Exception {
    Path app = Files.createDirectories(dir.resolve("app"));
    Files.writeString(app.resolve("config.yaml"), CONFIG);
    Files.writeString(app.resolve("data.txt"), "data");
    Files.createSymbolicLink(app.resolve("data-link"), Path.of("data.txt"));
    ByteArrayOutputStream archive = new ByteArrayOutputStream();
    PayloadArchive.pack(app, archive);

    var stored = harness.upload(archive.toByteArray(), "v1", "app");

    assertEquals(List.of("api"), stored.getServicesList());
  }

  /** What a host's extraction (the same call ReleaseExtractor makes) says about the archive. */
  private String hostRefusal(byte[] archive) {
    Path target = dir.resolve("host-release-" + System.nanoTime());
    InvalidArchiveException e = assertThrows(InvalidArchiveException.class, () -> PayloadArchive.extract(
        new ByteArrayInputStream(archive), target, new ExtractionLimits(MAX_EXTRACTED,
            ExtractionLimits.DEFAULT_MAX_ENTRIES)));
    return e.getMessage();
  }

  /** Stored payload rows and ciphertext chunks, and files in the upload spool. */
  private long payloadFiles() throws Exception {
    PayloadFiles files = harness.controlPlane.bean(PayloadFiles.class);
    long rows;
    try (java.sql.Connection c = harness.controlPlane.bean(javax.sql.DataSource.class).getConnection();
        java.sql.ResultSet r = c.createStatement().executeQuery(
            "SELECT (SELECT COUNT(*) FROM payloads) + (SELECT COUNT(*) FROM payload_chunks)")) {
      r.next();
      rows = r.getLong(1);
    }
    try (Stream<Path> spooled = Files.list(files.uploadsDir())) {
      return rows + spooled.count();
    }
  }

  private static byte[] tarGz(TarWriter writer) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(bytes))) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      writer.write(tar);
    }
    return bytes.toByteArray();
  }

  private static void file(TarArchiveOutputStream tar, String name, String content) throws IOException {
    byte[] data = content.getBytes(UTF_8);
    TarArchiveEntry entry = new TarArchiveEntry(name, true);
    entry.setSize(data.length);
    tar.putArchiveEntry(entry);
    tar.write(data);
    tar.closeArchiveEntry();
  }

  private static void dir(TarArchiveOutputStream tar, String name) throws IOException {
    tar.putArchiveEntry(new TarArchiveEntry(name, TarConstants.LF_DIR));
    tar.closeArchiveEntry();
  }

  private static void symlink(TarArchiveOutputStream tar, String name, String target) throws IOException {
    TarArchiveEntry entry = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
    entry.setLinkName(target);
    tar.putArchiveEntry(entry);
    tar.closeArchiveEntry();
  }

  private static void link(TarArchiveOutputStream tar, String name, String target) throws IOException {
    TarArchiveEntry entry = new TarArchiveEntry(name, TarConstants.LF_LINK);
    entry.setLinkName(target);
    tar.putArchiveEntry(entry);
    tar.closeArchiveEntry();
  }

  private static void special(TarArchiveOutputStream tar, String name, byte type) throws IOException {
    tar.putArchiveEntry(new TarArchiveEntry(name, type));
    tar.closeArchiveEntry();
  }
}
