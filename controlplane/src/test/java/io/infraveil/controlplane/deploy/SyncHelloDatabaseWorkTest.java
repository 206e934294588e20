package io.infraveil.controlplane.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.controlplane.store.DeploymentStore;
import io.infraveil.controlplane.store.HostStore;
import io.infraveil.controlplane.store.Jdbc;
import io.infraveil.controlplane.store.PayloadStore;
import io.infraveil.devpostgres.LocalPostgres;
import io.infraveil.proto.v1.DesiredState;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The database work of a Sync hello, counted in statements and transactions (what a storm of
 * reconnects after a control-plane restart multiplies): a launcher holding the stored revision
 * costs one read and no transaction; one holding more than the database (restored from a
 * backup) still gets its revision raised above what it holds. On H2 and on PostgreSQL.
 */
class SyncHelloDatabaseWorkTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  enum Engine { H2, POSTGRESQL }

  @TempDir
  Path dir;

  private LocalPostgres.Database postgres;

  /** Statements prepared and transactions begun through one data source. */
  private static final class Counts {
    final AtomicInteger statements = new AtomicInteger();
    final AtomicInteger transactions = new AtomicInteger();

    void reset() {
      statements.set(0);
      transactions.set(0);
    }
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void aReconnectAtTheStoredRevisionCostsOneReadAndNoTransaction(Engine engine) {
    DataSource plain = dataSource(engine);
    migrate(engine, plain);
    Counts counts = new Counts();
    Jdbc jdbc = new Jdbc(counting(plain, counts));
    HostStore hosts = new HostStore(jdbc);
    DesiredStates before = desiredStates(jdbc, hosts);
    hosts.upsert("a", "spiffe://test/host/a", Map.of(), new byte[32], T0);
    assertEquals(5, before.ensureAbove("a", 4).getRevision(), "setup: revision 5 stored");

    // A restarted control plane: nothing in memory, the launcher holds revision 5.
    DesiredStates restarted = desiredStates(jdbc, hosts);
    counts.reset();
    DesiredStates.Reloaded reloaded = restarted.reloadWithStoredRevision("a");
    DesiredState offered = restarted.aboveHeld("a", 5, reloaded);
    assertEquals(5, reloaded.held().getRevision());
    assertEquals(5, offered.getRevision());
    assertEquals(1, counts.statements.get(), "statements for one hello at the stored revision");
    assertEquals(0, counts.transactions.get(), "transactions for one hello at the stored revision");

    // The same host reconnecting again (its state now held here) and a launcher behind: the same.
    counts.reset();
    restarted.aboveHeld("a", 5, restarted.reloadWithStoredRevision("a"));
    restarted.aboveHeld("a", 2, restarted.reloadWithStoredRevision("a"));
    assertEquals(2, counts.statements.get(), "statements for two more hellos");
    assertEquals(0, counts.transactions.get(), "transactions for two more hellos");

    // A launcher ahead of the database (restored from a backup) is raised above what it holds.
    counts.reset();
    DesiredState raised = restarted.aboveHeld("a", 9, restarted.reloadWithStoredRevision("a"));
    assertEquals(10, raised.getRevision());
    assertEquals(1, counts.transactions.get(), "the raise is one transaction");
    assertEquals(10, hosts.storedDesired("a").orElseThrow().revision(), "the raise is stored");
    assertEquals(10, restarted.current("a").getRevision());
  }

  private DesiredStates desiredStates(Jdbc jdbc, HostStore hosts) {
    return new DesiredStates(jdbc, hosts, new DeploymentStore(jdbc), new PayloadStore(jdbc),
        Clock.fixed(T0, ZoneOffset.UTC));
  }

  /** A data source whose connections count prepared statements and transactions begun. */
  private static DataSource counting(DataSource target, Counts counts) {
    return (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(), new Class<?>[] {DataSource.class},
        (proxy, method, args) -> {
          Object result = invoke(target, method, args);
          if (!(result instanceof Connection connection)) {
            return result;
          }
          return Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
              (p, m, a) -> {
                if (m.getName().equals("prepareStatement") || m.getName().equals("createStatement")
                    || m.getName().equals("prepareCall")) {
                  counts.statements.incrementAndGet();
                }
                if (m.getName().equals("setAutoCommit") && Boolean.FALSE.equals(a[0])) {
                  counts.transactions.incrementAndGet();
                }
                return invoke(connection, m, a);
              });
        });
  }

  private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private DataSource dataSource(Engine engine) {
    if (engine == Engine.H2) {
      JdbcDataSource h2 = new JdbcDataSource();
      h2.setURL("jdbc:h2:file:" + dir.toAbsolutePath().resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE;DB_CLOSE_DELAY=-1");
      h2.setUser("sa");
      return h2;
    }
    postgres = LocalPostgres.shared().newDatabase();
    PGSimpleDataSource pg = new PGSimpleDataSource();
    pg.setURL(postgres.jdbcUrl());
    pg.setUser(postgres.user());
    pg.setPassword(postgres.password());
    return pg;
  }

  private void migrate(Engine engine, DataSource dataSource) {
    String vendor = engine == Engine.H2 ? "h2" : "postgresql";
    try {
      Flyway.configure().dataSource(dataSource)
          .locations("classpath:db/migration/common", "classpath:db/migration/" + vendor).load().migrate();
    } catch (org.flywaydb.core.api.FlywayException e) {
      if (engine == Engine.POSTGRESQL) {
        Assumptions.abort("the schema does not migrate on PostgreSQL yet: " + e.getMessage());
      }
      throw e;
    }
  }
}
