package io.infraveil.host.process.cgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class CgroupNameTest {

  // Letters, digits, _ and - stay; dots, slashes, spaces, % and non-ASCII become %XX.
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      web-1          | web-1
      ..             | %2E%2E
      memory.max     | memory%2Emax
      a/b            | a%2Fb
      'a b'          | a%20b
      50%            | 50%25
      é              | %C3%A9
      """)
  void escapesEverySegment(String raw, String escaped) {
    assertEquals(escaped, CgroupName.escape(raw));
  }

  // Two data dirs with the same last name get different host keys; the same dir the same key.
  @Test
  void hostKeySeparatesDataDirs() {
    String a = CgroupName.hostKey(Path.of("/srv/a/data"));
    String b = CgroupName.hostKey(Path.of("/srv/b/data"));
    assertNotEquals(a, b);
    assertEquals(a, CgroupName.hostKey(Path.of("/srv/a/../a/data")));
    assertTrue(a.matches("data-[0-9a-f]{12}"), a);
  }

  // The instance name nests host, deployment and service-index; an index is never negative.
  @Test
  void instanceNameNestsHostDeploymentAndInstance() {
    assertEquals("h-1/shop%2Eapi/web-3", CgroupName.instance("h-1", "shop.api", "web", 3));
    assertThrows(IllegalArgumentException.class, () -> CgroupName.instance("h", "d", "s", -1));
    assertThrows(IllegalArgumentException.class, () -> CgroupName.escape(""));
  }
}
