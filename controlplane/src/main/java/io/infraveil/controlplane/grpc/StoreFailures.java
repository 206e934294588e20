package io.infraveil.controlplane.grpc;

import io.grpc.Status;
import io.infraveil.controlplane.store.StoreException;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status a client gets when the database refused or failed a call's work, instead of a bare
 * {@code UNKNOWN: Application error}: a value too long for its column is the caller's
 * (INVALID_ARGUMENT, naming the field and its limit); a conflicting write or a lock that was not
 * granted in time may pass on a retry (ABORTED); a database that cannot be reached may be
 * reached on a retry, through this replica or another (UNAVAILABLE); anything else is the
 * control plane's own failure (INTERNAL), logged with its cause.
 */
final class StoreFailures {

  private static final Logger LOG = LoggerFactory.getLogger(StoreFailures.class);

  /** H2: Value too long for column "LABELS_JSON CHARACTER VARYING(4000)": "'{...' (5000)". */
  private static final Pattern TOO_LONG =
      Pattern.compile("column \"(\\w+) [A-Z ]+\\((\\d+)\\)\"(?s:.*)\\((\\d+)\\)");
  /** PostgreSQL names the limit, not the column: value too long for type character varying(4000). */
  private static final Pattern TOO_LONG_FOR_TYPE =
      Pattern.compile("value too long for type [a-z ]+\\((\\d+)\\)");
  /** Besides a unique key: serialization failure, H2 lock timeout, PostgreSQL deadlock and lock not granted. */
  private static final Set<String> RETRYABLE = Set.of("40001", "HYT00", "40P01", "55P03");

  private StoreFailures() {}

  static Status status(StoreException e) {
    SQLException sql = sqlCause(e);
    String state = sql == null || sql.getSQLState() == null ? "" : sql.getSQLState();
    String what = e.what();
    if (state.equals("22001")) {
      return Status.INVALID_ARGUMENT.withDescription("cannot " + what + ": " + tooLong(sql.getMessage()))
          .withCause(e);
    }
    if (state.startsWith("23505") || RETRYABLE.contains(state)) {
      return Status.ABORTED.withDescription("cannot " + what + ": another change to the same records "
          + "was being stored at the same moment; try again").withCause(e);
    }
    if (state.startsWith("08") || state.startsWith("57P0")) {
      // Connection failures and a server shutting down: another replica, or this one a moment
      // later, may reach the database.
      LOG.warn("cannot {}: the database is unreachable: {}", what, sql.getMessage());
      return Status.UNAVAILABLE.withDescription("cannot " + what + ": the control plane's database"
          + " cannot be reached; try again").withCause(e);
    }
    LOG.error("cannot {}", what, e);
    return Status.INTERNAL.withDescription("cannot " + what + ": the control plane's database failed; "
        + "see the control plane's log (\"cannot " + what + "\") for the cause").withCause(e);
  }

  private static String tooLong(String message) {
    Matcher m = TOO_LONG.matcher(message == null ? "" : message);
    if (!m.find()) {
      Matcher forType = TOO_LONG_FOR_TYPE.matcher(message == null ? "" : message);
      return forType.find()
          ? "a value is longer than " + forType.group(1) + " characters, the most its field takes; send less"
          : "a value is longer than the database takes";
    }
    return "the value for " + m.group(1).toLowerCase(Locale.ROOT) + " is " + m.group(3)
        + " characters long; it takes at most " + m.group(2) + ", so send less";
  }

  private static SQLException sqlCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SQLException sql) {
        return sql;
      }
    }
    return null;
  }
}
