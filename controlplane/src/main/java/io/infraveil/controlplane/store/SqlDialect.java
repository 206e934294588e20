package io.infraveil.controlplane.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The SQL that differs between the two engines the control plane runs on: the embedded H2 of a
 * single control plane, and PostgreSQL (14 or newer) shared by replicas. Everything else in the
 * stores is plain SQL both accept. The engine is known from a JDBC URL before anything
 * connects ({@link #forUrl}), or from an open connection ({@link #of}).
 */
public enum SqlDialect {

  H2("h2", "org.h2.Driver"),
  POSTGRESQL("postgresql", "org.postgresql.Driver");

  private final String vendor;
  private final String driverClassName;

  SqlDialect(String vendor, String driverClassName) {
    this.vendor = vendor;
    this.driverClassName = driverClassName;
  }

  /** The engine a JDBC URL names. */
  public static SqlDialect forUrl(String jdbcUrl) {
    String url = jdbcUrl == null ? "" : jdbcUrl.toLowerCase(Locale.ROOT);
    if (url.startsWith("jdbc:h2:")) {
      return H2;
    }
    if (url.startsWith("jdbc:postgresql:")) {
      return POSTGRESQL;
    }
    throw new IllegalArgumentException("the database URL must start with jdbc:postgresql:"
        + " (jdbc:postgresql://HOST:PORT/DATABASE) or jdbc:h2:; leave it out for the embedded H2"
        + " database in the data dir");
  }

  /** The engine behind an open connection (from the driver, without a round trip). */
  public static SqlDialect of(Connection connection) throws SQLException {
    String product = connection.getMetaData().getDatabaseProductName();
    return switch (product) {
      case "H2" -> H2;
      case "PostgreSQL" -> POSTGRESQL;
      default -> throw new SQLException("the control plane runs on H2 or PostgreSQL, not on " + product);
    };
  }

  /** The Flyway location of this engine's own migrations (versions whose SQL differs). */
  public String vendorLocation() {
    return "classpath:db/migration/" + vendor;
  }

  /** Where every migration of this engine is: the portable ones, then its own. */
  public List<String> migrationLocations() {
    return List.of("classpath:db/migration/common", vendorLocation());
  }

  public String driverClassName() {
    return driverClassName;
  }

  /**
   * Inserts a row, or updates the other listed columns of the row whose {@code keyColumns}
   * match. Every column is bound as a parameter, in the order given.
   *
   * @param keyColumns comma-separated, the primary key (or a unique key) of {@code table}
   * @param columns comma-separated, the key columns among them
   */
  public String upsert(String table, String keyColumns, String columns) {
    List<String> keys = split(keyColumns);
    List<String> all = split(columns);
    if (!all.containsAll(keys)) {
      throw new IllegalArgumentException("the columns " + all + " of " + table
          + " must include the key " + keys);
    }
    String values = all.stream().map(c -> "?").collect(Collectors.joining(", "));
    String columnList = String.join(", ", all);
    String keyList = String.join(", ", keys);
    return switch (this) {
      case H2 -> "MERGE INTO " + table + " (" + columnList + ") KEY (" + keyList + ") VALUES ("
          + values + ")";
      case POSTGRESQL -> {
        List<String> updated = all.stream().filter(c -> !keys.contains(c)).toList();
        String onConflict = updated.isEmpty() ? "DO NOTHING"
            : "DO UPDATE SET " + updated.stream().map(c -> c + " = EXCLUDED." + c)
                .collect(Collectors.joining(", "));
        yield "INSERT INTO " + table + " (" + columnList + ") VALUES (" + values + ") ON CONFLICT ("
            + keyList + ") " + onConflict;
      }
    };
  }

  private static List<String> split(String columns) {
    return Arrays.stream(columns.split(",")).map(String::strip).filter(c -> !c.isEmpty()).toList();
  }
}
