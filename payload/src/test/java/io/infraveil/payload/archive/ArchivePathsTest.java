package io.infraveil.payload.archive;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ArchivePathsTest {

  @ParameterizedTest
  @CsvSource({
      "config.yaml, config.yaml",
      "./config.yaml, config.yaml",
      "bin/, bin",
      "./, ''",
      "a//b/./c, a/b/c"
  })
  void entryPathNormalizesHarmlessSpellings(String name, String expected) throws Exception {
    assertEquals(expected, ArchivePaths.entryPath(name));
  }

  @ParameterizedTest
  @CsvSource({
      "../evil, contains '..'",
      "a/../../evil, contains '..'",
      "/etc/passwd, has an absolute path"
  })
  void entryPathRefusesEscapes(String name, String message) {
    InvalidArchiveException e =
        assertThrows(InvalidArchiveException.class, () -> ArchivePaths.entryPath(name));
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  @ParameterizedTest
  @CsvSource({
      "bin/tool, ../lib/tool",
      "a/b/link, ../../x",
      "link, sub/file",
      "link, ."
  })
  void linkTargetsThatStayInsideAreAccepted(String link, String target) {
    assertDoesNotThrow(() -> ArchivePaths.checkLinkTarget(link, target));
  }

  @ParameterizedTest
  @CsvSource({
      "link, ../x, points outside the payload root",
      "a/b/link, ../../../x, points outside the payload root",
      "link, /etc/passwd, is absolute",
      "e, d/../.., has '..' after a directory name",
      "bin/tool, sub/../../lib, has '..' after a directory name"
  })
  void linkTargetsThatCouldEscapeAreRefused(String link, String target, String message) {
    InvalidArchiveException e = assertThrows(InvalidArchiveException.class,
        () -> ArchivePaths.checkLinkTarget(link, target));
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }
}
