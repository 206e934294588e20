package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.controlplane.backup.H2OnlineBackup;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running control plane on H2 writes complete backups on its schedule, keeps only the newest,
 * and a backup unzipped into an empty dir opens as the database with what was committed.
 */
class H2OnlineBackupTest {

  @TempDir Path dir;

  @Test
  void scheduledBackupsRestoreToWhatWasCommittedAndOnlyTheNewestStay() throws Exception {
    new TestPki(dir.resolve("pki"));
    Path backups = dir.resolve("backups");
    Path newest;
    try (ControlPlane controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0,
        Map.of("infraveil.backup.interval", "200ms", "infraveil.backup.dir", backups.toString(),
            "infraveil.backup.keep", "2"))) {
      try (Connection c = controlPlane.bean(DataSource.class).getConnection();
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE backup_probe (x INT)");
        s.execute("INSERT INTO backup_probe VALUES (42)");
      }
      H2OnlineBackup backup = controlPlane.bean(H2OnlineBackup.class);
      Path first = backup.backUp();
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (backup.backups().size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      for (int i = 0; i < 3; i++) {
        backup.backUp();
      }
      assertEquals(2, backup.backups().size(), "only `keep` backups stay: " + backup.backups());
      assertFalse(Files.exists(first), "the oldest are pruned");
      try (var files = Files.list(backups)) {
        assertTrue(files.noneMatch(p -> p.toString().endsWith(".partial")));
      }
      newest = backup.newest().orElseThrow();
    }

    Path restored = dir.resolve("restored");
    Files.createDirectories(restored);
    try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(newest))) {
      for (ZipEntry entry; (entry = zip.getNextEntry()) != null; ) {
        Path target = restored.resolve(entry.getName()).normalize();
        assertTrue(target.startsWith(restored), entry.getName());
        Files.copy((InputStream) zip, target);
      }
    }
    assertTrue(Files.exists(restored.resolve("controlplane.mv.db")), "the zip holds the database file");
    try (Connection c = DriverManager.getConnection(
            "jdbc:h2:file:" + restored.resolve("controlplane") + ";IFEXISTS=TRUE", "sa", "");
        Statement s = c.createStatement()) {
      ResultSet probe = s.executeQuery("SELECT x FROM backup_probe");
      assertTrue(probe.next());
      assertEquals(42, probe.getInt(1));
      ResultSet migrations = s.executeQuery("SELECT count(*) FROM \"flyway_schema_history\"");
      assertTrue(migrations.next());
      assertTrue(migrations.getInt(1) > 10, "the whole schema is in the backup");
    }
  }

  @Test
  void backupsAreOffByDefault() throws Exception {
    new TestPki(dir.resolve("pki"));
    try (ControlPlane controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0,
        Map.of())) {
      Thread.sleep(300);
      assertTrue(controlPlane.bean(H2OnlineBackup.class).backups().isEmpty());
      assertFalse(Files.exists(dir.resolve("data").resolve("backups")));
    }
  }
}
