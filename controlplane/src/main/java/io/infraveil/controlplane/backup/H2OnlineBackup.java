package io.infraveil.controlplane.backup;

import io.infraveil.controlplane.ControlPlaneSettings;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.controlplane.store.SqlDialect;
import io.micronaut.context.annotation.Context;
import jakarta.annotation.PreDestroy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes online backups of the embedded H2 database while the control plane runs: H2's
 * {@code BACKUP TO} writes a consistent zip of the database file through the control plane's
 * own connection (the file is locked to this process, so no other program could). A backup is
 * written under a temporary name and renamed when complete; only the newest {@code keep} stay.
 * Restoring is unzipping one over a stopped control plane's data dir (docs/high-availability.md).
 */
@Context
public final class H2OnlineBackup {

  private static final Logger LOG = LoggerFactory.getLogger(H2OnlineBackup.class);
  static final String PREFIX = "controlplane-";
  static final String SUFFIX = ".zip";
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

  private final DataSource dataSource;
  private final BackupSettings settings;
  private final Path dir;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;

  public H2OnlineBackup(DataSource dataSource, Jdbc jdbc, BackupSettings settings,
      ControlPlaneSettings controlPlane, Clock clock) {
    this.dataSource = dataSource;
    this.settings = settings;
    this.clock = clock;
    this.dir = settings.dir().isEmpty() ? controlPlane.dataDir().resolve("backups") : Path.of(settings.dir());
    boolean on = !settings.interval().isZero() && jdbc.dialect() == SqlDialect.H2;
    if (!settings.interval().isZero() && !on) {
      LOG.warn("backup_off reason=\"infraveil.backup.* backs up the embedded H2 database only;"
          + " back PostgreSQL up with pg_dump (docs/high-availability.md)\"");
    }
    this.scheduler = on ? Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "infraveil-h2-backup");
      t.setDaemon(true);
      return t;
    }) : null;
    if (on) {
      long every = settings.interval().toMillis();
      scheduler.scheduleWithFixedDelay(this::backUpLogged, every, every, TimeUnit.MILLISECONDS);
      LOG.info("backup_scheduled every={} dir={} keep={}", settings.interval(), dir, settings.keep());
    }
  }

  /** Writes one backup now and prunes old ones; returns its path. */
  public Path backUp() {
    try {
      Files.createDirectories(dir);
      Path target = dir.resolve(PREFIX + STAMP.format(clock.instant()) + SUFFIX);
      Path partial = dir.resolve(target.getFileName() + ".partial");
      try (Connection c = dataSource.getConnection();
          PreparedStatement s = c.prepareStatement("BACKUP TO ?")) {
        s.setString(1, partial.toString());
        s.execute();
      }
      Files.move(partial, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      prune();
      return target;
    } catch (SQLException e) {
      throw new IllegalStateException("the H2 backup into " + dir + " failed: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("the H2 backup into " + dir + " failed", e);
    }
  }

  /** The backups present, oldest first. */
  public List<Path> backups() throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> {
        String name = p.getFileName().toString();
        return name.startsWith(PREFIX) && name.endsWith(SUFFIX);
      }).sorted().toList();
    }
  }

  public Optional<Path> newest() throws IOException {
    List<Path> all = backups();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  private void prune() throws IOException {
    List<Path> all = backups();
    for (Path old : all.subList(0, Math.max(0, all.size() - settings.keep()))) {
      Files.deleteIfExists(old);
    }
  }

  private void backUpLogged() {
    try {
      long started = System.nanoTime();
      Path written = backUp();
      LOG.info("backup_written file={} bytes={} ms={}", written, Files.size(written),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    } catch (RuntimeException | IOException e) {
      // The next round tries again; the operator sees the failure in the log.
      LOG.error("backup_failed dir={} error=\"{}\"", dir, e.getMessage());
    }
  }

  @PreDestroy
  void stop() {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }
}
