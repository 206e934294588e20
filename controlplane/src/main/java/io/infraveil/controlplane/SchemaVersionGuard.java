package io.infraveil.controlplane;

import io.infraveil.controlplane.store.SqlDialect;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationVersion;

/**
 * Refuses a database that a newer release has migrated. Flyway on its own lets an older control
 * plane start on such a schema (migrations it does not know are ignored), which would then run
 * old code against tables it does not understand. Checked before Micronaut's Flyway migrates:
 * older schemas still migrate forward as usual.
 */
final class SchemaVersionGuard {

  /**
   * Where the embedded H2 database's migrations are: the portable ones and H2's own. Every
   * engine's come from {@link SqlDialect#migrationLocations()}, as {@link #locations} gives.
   */
  static final String[] LOCATIONS = locations(SqlDialect.H2);

  private SchemaVersionGuard() {}

  /** What the database has applied and what this release knows; versions absent when none. */
  record Versions(Optional<String> applied, Optional<String> known) {
    Versions {
      Objects.requireNonNull(applied, "applied");
      Objects.requireNonNull(known, "known");
    }
  }

  /** The Flyway locations of every migration of {@code dialect}'s engine. */
  static String[] locations(SqlDialect dialect) {
    return dialect.migrationLocations().toArray(String[]::new);
  }

  /**
   * Throws {@link IllegalStateException} naming both versions when the database at
   * {@code jdbcUrl} carries a migration newer than the newest of this release.
   */
  static void refuseNewerSchema(String jdbcUrl, String user, String password, String where) {
    Versions versions = read(jdbcUrl, user, password);
    MigrationVersion known = versions.known().map(MigrationVersion::fromVersion)
        .orElse(MigrationVersion.EMPTY);
    versions.applied().map(MigrationVersion::fromVersion).ifPresent(applied -> {
      if (applied.isNewerThan(known.getVersion())) {
        throw new IllegalStateException("the database in " + where + " has schema version "
            + applied.getVersion() + ", written by a newer Infraveil release; this release knows"
            + " schema versions up to " + known.getVersion() + " and does not downgrade a"
            + " database: run the newer release again, or restore the backup taken before the"
            + " upgrade (docs/install.md, \"Upgrades\")");
      }
    });
  }

  /** The newest applied migration and the newest this release's migrations reach. */
  static Versions read(String jdbcUrl, String user, String password) {
    Flyway flyway = Flyway.configure(SchemaVersionGuard.class.getClassLoader())
        .dataSource(jdbcUrl, user, password)
        .locations(locations(SqlDialect.forUrl(jdbcUrl)))
        .load();
    MigrationInfoService info = flyway.info();
    Optional<String> applied = Arrays.stream(info.applied())
        .filter(m -> m.getVersion() != null && m.getState().isApplied())
        .map(MigrationInfo::getVersion)
        .max(MigrationVersion::compareTo)
        .map(MigrationVersion::getVersion);
    Optional<String> known = Arrays.stream(info.all())
        .filter(m -> m.getVersion() != null && m.getState().isResolved())
        .map(MigrationInfo::getVersion)
        .max(MigrationVersion::compareTo)
        .map(MigrationVersion::getVersion);
    return new Versions(applied, known);
  }
}
