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

/**
 * Small JDBC helper: one statement per call, errors say what was being done. Calls made while
 * this thread runs {@link #inTransaction} (from any store) join that transaction, so a change
 * and everything it causes commit together or not at all; work that must wait for the commit
 * (pushing to hosts, updating caches) goes through {@link #afterCommit}.
 */
@Singleton
public final class Jdbc {

  /** The transaction this thread is in: its connection and what runs once it commits. */
  private static final class Open {
    final Connection connection;
    final List<Runnable> afterCommit = new ArrayList<>();

    Open(Connection connection) {
      this.connection = connection;
    }
  }

  private final ThreadLocal<Open> open = new ThreadLocal<>();

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
    Open tx = open.get();
    if (tx != null) {
      try (PreparedStatement s = tx.connection.prepareStatement(sql)) {
        binder.bind(s);
        return s.executeUpdate();
      } catch (SQLException e) {
        throw StoreException.of(what, e);
      }
    }
    try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
      binder.bind(s);
      return s.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(what, e);
    }
  }

  public <T> List<T> query(String what, String sql, Binder binder, RowMapper<T> mapper) {
    Open tx = open.get();
    if (tx != null) {
      try {
        return query(tx.connection, sql, binder, mapper);
      } catch (SQLException e) {
        throw StoreException.of(what, e);
      }
    }
    try (Connection c = dataSource.getConnection()) {
      return query(c, sql, binder, mapper);
    } catch (SQLException e) {
      throw StoreException.of(what, e);
    }
  }

  private static <T> List<T> query(Connection c, String sql, Binder binder, RowMapper<T> mapper)
      throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      binder.bind(s);
      try (ResultSet r = s.executeQuery()) {
        List<T> out = new ArrayList<>();
        while (r.next()) {
          out.add(mapper.map(r));
        }
        return out;
      }
    }
  }

  public <T> Optional<T> queryOne(String what, String sql, Binder binder, RowMapper<T> mapper) {
    List<T> rows = query(what, sql, binder, mapper);
    return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
  }

  /**
   * Runs {@code work} in one transaction, committed when it returns and rolled back when it
   * throws; inside another transaction of this thread it joins that one.
   */
  public <T> T inTransaction(String what, TransactionWork<T> work) {
    Open outer = open.get();
    if (outer != null) {
      try {
        return work.run(outer.connection);
      } catch (SQLException e) {
        throw StoreException.of(what, e);
      }
    }
    Open tx;
    T result;
    try (Connection c = dataSource.getConnection()) {
      if (dialect == null) {
        dialect = SqlDialect.of(c); // so the work can ask without taking a second connection
      }
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      tx = new Open(c);
      open.set(tx);
      try {
        result = work.run(c);
        c.commit();
      } catch (SQLException | RuntimeException | Error e) {
        try {
          c.rollback();
        } catch (SQLException rollback) {
          e.addSuppressed(rollback);
        }
        throw e;
      } finally {
        open.remove();
        c.setAutoCommit(autoCommit);
      }
    } catch (SQLException e) {
      throw StoreException.of(what, e);
    }
    tx.afterCommit.forEach(Runnable::run);
    return result;
  }

  /** Runs {@code action} once this thread's transaction commits (never if it rolls back), else now. */
  public void afterCommit(Runnable action) {
    Open tx = open.get();
    if (tx == null) {
      action.run();
    } else {
      tx.afterCommit.add(action);
    }
  }
}
