package io.infraveil.controlplane.replica;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;
import javax.sql.DataSource;

/** The database engine behind the data source: PostgreSQL notifies, H2 is polled. */
enum Engine {
  POSTGRESQL, OTHER;

  static Engine of(DataSource dataSource) {
    try (Connection c = dataSource.getConnection()) {
      String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
      return product.contains("postgresql") ? POSTGRESQL : OTHER;
    } catch (SQLException e) {
      throw new IllegalStateException("cannot tell which database engine is in use: " + e.getMessage(), e);
    }
  }
}
