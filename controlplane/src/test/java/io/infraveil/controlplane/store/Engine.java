package io.infraveil.controlplane.store;

import io.infraveil.devpostgres.LocalPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcDataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The two engines every store test runs on: the embedded H2 and a real PostgreSQL 14 (one
 * server per test JVM, {@link LocalPostgres}). A test method takes an {@code Engine} through
 * {@link OnBothEngines} and opens a fresh database, migrated by the control plane's own
 * migrations of that engine.
 */
public enum Engine {

  H2(SqlDialect.H2),
  POSTGRESQL(SqlDialect.POSTGRESQL);

  private final SqlDialect dialect;

  Engine(SqlDialect dialect) {
    this.dialect = dialect;
  }

  public SqlDialect dialect() {
    return dialect;
  }

  /** A new, empty database of this engine with every migration applied. */
  public TestDatabase open() {
    TestDatabase database = openEmpty();
    Flyway.configure(Engine.class.getClassLoader())
        .dataSource(database.dataSource())
        .locations(dialect.migrationLocations().toArray(String[]::new))
        .load()
        .migrate();
    return database;
  }

  /** A new, empty database of this engine, nothing migrated. */
  public TestDatabase openEmpty() {
    return switch (this) {
      case H2 -> {
        String url = "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        JdbcDataSource source = new JdbcDataSource();
        source.setURL(url);
        source.setUser("sa");
        source.setPassword("");
        yield new TestDatabase(this, url, "sa", "", source);
      }
      case POSTGRESQL -> {
        LocalPostgres.Database database = LocalPostgres.shared().newDatabase();
        PGSimpleDataSource source = new PGSimpleDataSource();
        source.setURL(database.jdbcUrl());
        source.setUser(database.user());
        source.setPassword(database.password());
        yield new TestDatabase(this, database.jdbcUrl(), database.user(), database.password(), source);
      }
    };
  }

  /** One database of a test: its URL and credentials, and a data source without a pool. */
  public record TestDatabase(Engine engine, String jdbcUrl, String user, String password,
      DataSource dataSource) implements AutoCloseable {

    public Jdbc jdbc() {
      return new Jdbc(dataSource);
    }

    /** Runs one statement as is (test setup). */
    public void execute(String sql) {
      try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
        s.execute(sql);
      } catch (SQLException e) {
        throw new IllegalStateException("cannot run " + sql, e);
      }
    }

    /** Drops an in-memory H2 database; a PostgreSQL test database is left for the server's end. */
    @Override
    public void close() {
      if (engine == H2) {
        execute("SHUTDOWN");
      }
    }
  }
}
