package io.infraveil.controlplane.store;

import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** Small JDBC helper: one statement per call, errors say what was being done. */
@Singleton
public final class Jdbc {

  /** Binds parameters. */
  @FunctionalInterface
  public interface Binder {
    void bind(PreparedStatement statement) throws SQLException;
  }

  /** Maps one row. */
  @FunctionalInterface
  public interface RowMapper<T> {
    T map(ResultSet row) throws SQLException;
  }

  /** Work inside one transaction. */
  @FunctionalInterface
  public interface TransactionWork<T> {
    T run(Connection connection) throws SQLException;
  }

  private final DataSource dataSource;
  /** Read from the first connection; the engine does not change under a running pool. */
  private volatile SqlDialect dialect;

  public Jdbc(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** The engine behind the data source, for the few statements that differ ({@link SqlDialect}). */
  public SqlDialect dialect() {
    SqlDialect known = dialect;
    if (known == null) {
      try (Connection c = dataSource.getConnection()) {
        known = SqlDialect.of(c);
      } catch (SQLException e) {
        throw StoreException.of("find out which database engine the store runs on", e);
      }
      dialect = known;
    }
    return known;
  }

  public int update(String what, String sql, Binder binder) {
    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
      binder.bind(s);
      return s.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(what, e);
    }
  }

  public <T> List<T> query(String what, String sql, Binder binder, RowMapper<T> mapper) {
    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
      binder.bind(s);
      try (ResultSet r = s.executeQuery()) {
        List<T> out = new ArrayList<>();
        while (r.next()) {
          out.add(mapper.map(r));
        }
        return out;
      }
    } catch (SQLException e) {
      throw StoreException.of(what, e);
    }
  }

  public <T> Optional<T> queryOne(String what, String sql, Binder binder, RowMapper<T> mapper) {
    List<T> rows = query(what, sql, binder, mapper);
    return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
  }

  public <T> T inTransaction(String what, TransactionWork<T> work) {
    try (Connection c = dataSource.getConnection()) {
      if (dialect == null) {
        dialect = SqlDialect.of(c); // so the work can ask without taking a second connection
      }
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(autoCommit);
      }
    } catch (SQLException e) {
      throw StoreException.of(what, e);
    }
  }
}
