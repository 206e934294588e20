package io.infraveil.controlplane;

import io.infraveil.controlplane.store.SqlDialect;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database one control plane opens, decided once before anything connects: the embedded
 * H2 file in the data dir when no URL is given, else the database of {@code
 * infraveil.datasource.url} (PostgreSQL for replicas; an H2 URL also works). Gives Micronaut its
 * datasource and Flyway properties (driver, migration folders of the engine, pool) and fails
 * start early, naming the URL (never the password) and what to check, when the database
 * cannot be used.
 */
final class StoreDatabase {

  /** The environment variable holding the database password when no password file is given. */
  static final String PASSWORD_ENV = "INFRAVEIL_DATABASE_PASSWORD";

  static final String URL = "infraveil.datasource.url";
  static final String USERNAME = "infraveil.datasource.username";
  static final String PASSWORD_FILE = "infraveil.datasource.password-file";
  static final String POOL_SIZE = "infraveil.datasource.pool-size";

  /** A password in a URL's parameters ({@code ?password=…} or {@code ;PASSWORD=…}). */
  private static final Pattern PASSWORD_IN_URL =
      Pattern.compile("(?i)(password=)[^&;]*");
  private static final int DEFAULT_POOL_SIZE = 10;
  private static final Logger LOG = LoggerFactory.getLogger(StoreDatabase.class);

  private final String url;
  private final String username;
  private final String password;
  private final SqlDialect dialect;
  private final int poolSize;
  private final boolean embedded;

  private StoreDatabase(String url, String username, String password, int poolSize,
      boolean embedded) {
    this.url = url;
    this.username = username;
    this.password = password;
    this.dialect = SqlDialect.forUrl(url);
    this.poolSize = poolSize;
    this.embedded = embedded;
  }

  /**
   * Reads {@code infraveil.datasource.*} from {@code properties}; the password from the file,
   * else from {@value #PASSWORD_ENV} in {@code env}.
   *
   * @throws IllegalArgumentException for a URL of another engine, or a bad pool size
   * @throws IllegalStateException when the password file cannot be read
   */
  static StoreDatabase resolve(Path dataDir, Map<String, Object> properties, Map<String, String> env) {
    Objects.requireNonNull(dataDir, "dataDir");
    // Micronaut's own datasource properties, when a caller in this JVM sets them directly, name
    // the database too (they are not documented keys; the infraveil.datasource.* ones win).
    String url = first(properties, URL, "datasources.default.url");
    if (url == null) {
      // H2 refuses relative paths; AUTO_SERVER off: one control plane owns its file.
      // WRITE_DELAY=0: a commit reaches the file before the call returns. With H2's default
      // delay a kill -9 within a second of an acknowledged deploy lost it (and the host that
      // had already received it was moved back); reports are written in batches, so the cost
      // is small where it matters.
      String file = "jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve("controlplane")
          + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0";
      return new StoreDatabase(file, "sa", "", DEFAULT_POOL_SIZE, true);
    }
    SqlDialect dialect = SqlDialect.forUrl(url);
    String username = first(properties, USERNAME, "datasources.default.username");
    String passwordFile = text(properties.get(PASSWORD_FILE));
    String password;
    if (passwordFile != null) {
      password = readPassword(Path.of(passwordFile));
    } else if (env.get(PASSWORD_ENV) != null) {
      password = env.get(PASSWORD_ENV);
    } else {
      password = text(properties.get("datasources.default.password"));
    }
    if (dialect == SqlDialect.H2) {
      username = username == null ? "sa" : username;
      password = password == null ? "" : password;
    }
    return new StoreDatabase(url, username, password, poolSize(properties.get(POOL_SIZE)), false);
  }

  private static String readPassword(Path file) {
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return lines.isEmpty() ? "" : lines.get(0).strip();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the database password from " + file
          + " (datasource.password-file): " + e.getMessage()
          + "; give a readable file whose first line is the password", e);
    }
  }

  private static int poolSize(Object value) {
    String text = text(value);
    if (text == null) {
      return DEFAULT_POOL_SIZE;
    }
    try {
      int size = Integer.parseInt(text);
      if (size >= 1 && size <= 1000) {
        return size;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new IllegalArgumentException("datasource.pool-size " + text
        + " is not a number of connections from 1 to 1000");
  }

  private static String first(Map<String, Object> properties, String name, String fallback) {
    String value = text(properties.get(name));
    return value != null ? value : text(properties.get(fallback));
  }

  private static String text(Object value) {
    if (value == null) {
      return null;
    }
    String text = value.toString().strip();
    return text.isEmpty() ? null : text;
  }

  SqlDialect dialect() {
    return dialect;
  }

  String url() {
    return url;
  }

  String username() {
    return username;
  }

  String password() {
    return password;
  }

  /** True for the H2 file in the data dir (no URL given). */
  boolean embedded() {
    return embedded;
  }

  /** The URL with any password in it replaced: what messages and logs may show. */
  String shownUrl() {
    return PASSWORD_IN_URL.matcher(url).replaceAll("$1***");
  }

  /** Micronaut's datasource and Flyway properties for this database. */
  Map<String, Object> contextProperties() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("datasources.default.url", url);
    out.put("datasources.default.driver-class-name", dialect.driverClassName());
    out.put("datasources.default.username", username == null ? "" : username);
    out.put("datasources.default.password", password == null ? "" : password);
    out.put("flyway.datasources.default.locations", dialect.migrationLocations());
    if (dialect == SqlDialect.POSTGRESQL) {
      out.put("datasources.default.maximum-pool-size", poolSize);
      out.put("datasources.default.minimum-idle", Math.min(2, poolSize));
      // A store call waits at most this long for a connection while PostgreSQL is away, then
      // fails with a clear error instead of holding the caller for Hikari's default 30 s.
      out.put("datasources.default.connection-timeout", 5_000);
    }
    return out;
  }

  /** One log line saying which database this control plane uses (never its password). */
  void announce() {
    LOG.info("database engine={} url={}{}", dialect.name().toLowerCase(java.util.Locale.ROOT),
        shownUrl(), embedded || username == null ? "" : " user=" + username);
  }

  /**
   * Connects once, so a wrong URL, an unreachable server or refused credentials stop the start
   * with what to check, instead of a pool's stack trace. The embedded H2 file needs no check.
   */
  void checkReachable() {
    if (embedded) {
      return;
    }
    Properties info = new Properties();
    if (username != null) {
      info.setProperty("user", username);
    }
    if (password != null) {
      info.setProperty("password", password);
    }
    try {
      Driver driver = (Driver) Class.forName(dialect.driverClassName()).getDeclaredConstructor()
          .newInstance();
      try (Connection connection = driver.connect(url, info)) {
        if (connection == null) {
          throw new SQLException("the driver does not take this URL");
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open the database at " + shownUrl()
          + (username == null ? "" : " as user " + username) + ": " + e.getMessage()
          + "; check that the server runs and accepts connections at that host and port, that"
          + " the database exists, and the user and its password (datasource.password-file or "
          + PASSWORD_ENV + ")", e);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("the " + dialect + " driver " + dialect.driverClassName()
          + " is missing from the control plane's classpath", e);
    }
  }

  /** Where the database is, for messages: the data dir, or the URL. */
  String describe(Path dataDir) {
    return embedded ? "data dir " + dataDir : "database " + shownUrl();
  }
}
