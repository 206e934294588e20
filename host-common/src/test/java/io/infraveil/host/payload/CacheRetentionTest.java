package io.infraveil.host.payload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheRetentionTest {

  @TempDir Path data;

  private static String sha(int i) {
    return String.format("%064x", i);
  }

  @Test
  void planKeepsReferencedAndNewestOthers() {
    List<CacheRetention.Entry> entries = new ArrayList<>();
    for (int i = 1; i <= 6; i++) {
      entries.add(new CacheRetention.Entry(sha(i), Instant.ofEpochSecond(i)));
    }
    // 1 is oldest but referenced; 6, 5, 4 are the newest others; 2 and 3 go.
    assertEquals(List.of(sha(2), sha(3)),
        CacheRetention.plan(entries, Set.of(sha(1)), 3));
    assertEquals(List.of(sha(2), sha(3), sha(4), sha(5), sha(6)),
        CacheRetention.plan(entries, Set.of(sha(1)), 0));
    assertEquals(List.of(), CacheRetention.plan(entries, Set.of(), 6));
  }

  @Test
  void applyDeletesOnlyWhatThePlanPicks() throws IOException {
    CacheLayout layout = new CacheLayout(data);
    for (int i = 1; i <= 5; i++) {
      Path entry = Files.createDirectories(layout.entryDir(sha(i)));
      Files.write(entry.resolve("payload.enc"), new byte[] {1});
      Files.setLastModifiedTime(entry, FileTime.from(Instant.ofEpochSecond(1000 + i)));
    }
    Files.createDirectories(layout.partialDir());
    Files.writeString(layout.sequencesFile(), "{}");

    List<String> deleted = new CacheRetention(layout, 2).apply(Set.of(sha(1)));

    assertEquals(List.of(sha(2), sha(3)), deleted);
    for (int i = 1; i <= 5; i++) {
      assertEquals(i == 1 || i >= 4, Files.exists(layout.entryDir(sha(i))), "entry " + i);
    }
    assertFalse(Files.exists(layout.partialDir().resolve(sha(2) + ".deleting")));
    assertTrue(Files.exists(layout.sequencesFile()), "non-entries untouched");
  }
}
