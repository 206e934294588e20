package io.infraveil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.commons.io.file.PathUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contracts stay compatible with the last released ones: `buf breaking` against the image
 * committed in proto/releases/ (FILE rules, proto/buf.yaml). A removed field fails it.
 */
class BufBreakingTest {

  static final String RELEASED = "releases/v1.binpb";

  @TempDir Path dir;

  @Test
  void contractsDoNotBreakTheLastRelease() throws Exception {
    Path buf = Buf.install();
    Path proto = ExternalProcess.repoRoot().resolve("proto");

    ExternalProcess.Result breaking = ExternalProcess.run(List.of(buf.toString(), "breaking", "--against",
        RELEASED), proto, Duration.ofMinutes(2));

    assertEquals(0, breaking.code(), () -> "proto/ breaks the released contracts (" + RELEASED + "); add, "
        + "never remove or renumber:\n" + breaking);
  }

  @Test
  void aRemovedFieldIsABreakingChange() throws Exception {
    Path buf = Buf.install();
    Path proto = ExternalProcess.repoRoot().resolve("proto");
    Path copy = dir.resolve("proto");
    Files.createDirectories(copy);
    Files.copy(proto.resolve("buf.yaml"), copy.resolve("buf.yaml"));
    PathUtils.copyDirectory(proto.resolve("infraveil"), copy.resolve("infraveil"));
    Path dashboard = copy.resolve("infraveil/v1/dashboard.proto");
    String before = Files.readString(dashboard);
    String after = before.replace("  int32 links_revoked = 2;\n", "");
    assertNotEquals(before, after, "the field to remove is there");
    Files.writeString(dashboard, after);

    ExternalProcess.Result breaking = ExternalProcess.run(List.of(buf.toString(), "breaking", "--against",
        proto.resolve(RELEASED).toString()), copy, Duration.ofMinutes(2));

    assertNotEquals(0, breaking.code(), breaking::toString);
    assertTrue(breaking.output().contains("links_revoked"), breaking::toString);
  }
}
