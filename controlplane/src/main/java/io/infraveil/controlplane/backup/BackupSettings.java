package io.infraveil.controlplane.backup;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.core.bind.annotation.Bindable;
import java.time.Duration;

/**
 * Online backups of the embedded H2 database ({@code infraveil.backup.*}). Off by default: the
 * database holds payloads too, so copies can be large; PostgreSQL installations back up with
 * {@code pg_dump} instead (docs/high-availability.md).
 *
 * @param interval how often a backup is taken; 0 turns backups off
 * @param dir where backups go; empty means {@code <data-dir>/backups}
 * @param keep how many of the newest backups are kept
 */
@ConfigurationProperties("infraveil.backup")
public record BackupSettings(
    @Bindable(defaultValue = "0s") Duration interval,
    @Bindable(defaultValue = "") String dir,
    @Bindable(defaultValue = "7") int keep) {

  public BackupSettings {
    if (interval == null || interval.isNegative()) {
      throw new IllegalArgumentException("infraveil.backup.interval must be 0 (off) or a positive"
          + " duration, got " + interval);
    }
    dir = dir == null ? "" : dir.strip();
    if (keep < 1) {
      throw new IllegalArgumentException("infraveil.backup.keep must be at least 1, got " + keep);
    }
  }
}
