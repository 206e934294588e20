package io.infraveil.controlplane.replica;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Map;
import org.h2.tools.Server;

/**
 * One H2 database served over TCP on loopback, as several control planes (or leases) share
 * it: each opens its own connections, as replicas on separate machines would.
 */
final class SharedH2 implements AutoCloseable {

  private final Server server;
  private final String url;

  SharedH2(Path dir) throws SQLException {
    server = Server.createTcpServer("-tcpPort", String.valueOf(freePort()), "-ifNotExists").start();
    url = "jdbc:h2:tcp://127.0.0.1:" + server.getPort() + "/" + dir.toAbsolutePath().resolve("replicas");
  }

  String url() {
    return url;
  }

  /** The properties that point a control plane at this database. */
  Map<String, Object> datasource() {
    return Map.of("infraveil.datasource.url", url, "infraveil.datasource.username", "sa");
  }

  @Override
  public void close() {
    server.stop();
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
