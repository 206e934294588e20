package io.infraveil.cli;

import io.infraveil.devpostgres.LocalPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * The PostgreSQL of {@code infraveil dev --replicas N}: a {@link LocalPostgres} whose files live
 * in {@code DIR/postgres} (or in the temp dir when running as root needs it; LocalPostgres
 * says why), serving database {@value #NAME} on 127.0.0.1. Stopped after the replicas.
 *
 * <p>The dev-postgres module is an optional dependency of the cli (the release carries no
 * PostgreSQL binaries): callers check {@link #available()} before touching this class.
 */
final class DevDatabase implements AutoCloseable {

  static final String NAME = "infraveil";
  private static final String LOCAL_POSTGRES = "io.infraveil.devpostgres.LocalPostgres";

  private final LocalPostgres server;
  private final LocalPostgres.Database database;

  private DevDatabase(LocalPostgres server, LocalPostgres.Database database) {
    this.server = server;
    this.database = database;
  }

  /** True when the dev-postgres module is on the classpath (a source checkout, not a release). */
  static boolean available() {
    try {
      Class.forName(LOCAL_POSTGRES, false, DevDatabase.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  /** Starts (or starts again, same data) the server in {@code dir} on {@code port}. */
  static DevDatabase start(Path dir, int port) {
    LocalPostgres server = LocalPostgres.start(dir, port);
    try {
      return new DevDatabase(server, server.database(NAME));
    } catch (RuntimeException e) {
      server.stop();
      throw e;
    }
  }

  String jdbcUrl() {
    return database.jdbcUrl();
  }

  String user() {
    return database.user();
  }

  int port() {
    return server.port();
  }

  /** The postmaster's pid, from the first line of its {@code postmaster.pid}. */
  OptionalLong pid() {
    try {
      List<String> lines = Files.readAllLines(server.dataDir().resolve("postmaster.pid"));
      return lines.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(lines.get(0).strip()));
    } catch (IOException | NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  /** Fast shutdown: sessions ended, committed work kept. */
  @Override
  public void close() {
    server.stop();
  }
}
