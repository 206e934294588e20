package io.infraveil.controlplane.replica;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * One connection held for {@code LISTEN infraveil_changes}. When it breaks (the database
 * restarted, the backend was terminated) it is dropped and opened again on the next wait, and
 * that wait reports a ring: anything committed meanwhile is read from the log.
 */
final class PostgresNotifications implements Doorbell {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PostgresNotifications.class);

  private final DataSource dataSource;
  private final String applicationName;
  private final Object lock = new Object();
  /** Guarded by {@link #lock} for open and close; used by the reader thread only. */
  private Connection connection;
  private volatile boolean closed;
  private boolean failing;

  PostgresNotifications(DataSource dataSource, String replica) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.applicationName = "infraveil-change-listener " + replica;
  }

  @Override
  public boolean await(Duration max) throws InterruptedException {
    Connection c = connection;
    if (c == null) {
      if (open()) {
        return true;
      }
      Thread.sleep(Math.max(1, max.toMillis()));
      return false;
    }
    try {
      PGNotification[] notifications = c.unwrap(PGConnection.class)
          .getNotifications((int) Math.max(1, Math.min(Integer.MAX_VALUE, max.toMillis())));
      if (notifications != null && notifications.length > 0) {
        return true;
      }
      // A quiet wait: make sure the connection is still there, or a partition would leave the
      // replica waiting for notifications that never come (polling still reads meanwhile).
      try (Statement s = c.createStatement()) {
        s.execute("SELECT 1");
      }
      return false;
    } catch (SQLException e) {
      LOG.warn("change_listener_lost replica_listener=\"{}\" cause=\"{}\"; reconnecting", applicationName,
          e.getMessage());
      drop();
      return true;
    }
  }

  private boolean open() {
    synchronized (lock) {
      if (closed) {
        return false;
      }
      Connection c = null;
      try {
        c = dataSource.getConnection();
        c.setAutoCommit(true);
        try (Statement s = c.createStatement()) {
          s.execute("SET application_name = '" + applicationName.replace("'", "''") + "'");
          s.execute("LISTEN " + ChangeLog.CHANNEL);
        }
        connection = c;
        if (failing) {
          LOG.info("change_listener_restored listener=\"{}\"", applicationName);
        }
        failing = false;
        return true;
      } catch (SQLException | RuntimeException e) {
        if (!failing) {
          LOG.warn("change_listener_unavailable listener=\"{}\" cause=\"{}\"; changes are polled until it is back",
              applicationName, e.getMessage());
        }
        failing = true;
        closeQuietly(c);
        return false;
      }
    }
  }

  private void drop() {
    synchronized (lock) {
      closeQuietly(connection);
      connection = null;
    }
  }

  @Override
  public void ring() {
    // PostgreSQL delivers this process's own NOTIFY too, at commit.
  }

  @Override
  public void close() {
    closed = true;
    drop();
  }

  private static void closeQuietly(Connection c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (SQLException | RuntimeException ignored) {
      // broken already
    }
  }
}
