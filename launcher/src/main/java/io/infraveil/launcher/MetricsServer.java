package io.infraveil.launcher;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.Executors;

/**
 * {@code GET /metrics} on loopback, plain HTTP: the host's one Prometheus endpoint (the
 * launcher's metrics and every agent's). Loopback only because it needs no credentials; scrape
 * it from the host or through a tunnel.
 */
final class MetricsServer implements AutoCloseable {

  private final HttpServer server;

  private MetricsServer(HttpServer server) {
    this.server = server;
  }

  /**
   * Serves {@code metrics} on 127.0.0.1:{@code port}, or returns null when the port is 0 or
   * taken (another launcher on this machine, in tests): metrics never keep a host from running.
   */
  static MetricsServer startUnlessOff(int port, LauncherMetrics metrics, LauncherLog log) {
    if (port == 0) {
      log.event("metrics_off", "reason", "METRICS_PORT_0");
      return null;
    }
    try {
      return start(port, metrics);
    } catch (IOException e) {
      log.event("metrics_off", "reason", "PORT_UNAVAILABLE", "port", port, "error", e.toString());
      return null;
    }
  }

  /** Serves {@code metrics} on 127.0.0.1:{@code port} (0 picks a free port). */
  static MetricsServer start(int port, LauncherMetrics metrics) throws IOException {
    Objects.requireNonNull(metrics, "metrics");
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
    server.createContext("/metrics", exchange -> {
      try (exchange) {
        if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
          exchange.getResponseHeaders().add("Allow", "GET, HEAD");
          exchange.sendResponseHeaders(405, -1);
          return;
        }
        byte[] body;
        int status = 200;
        try {
          body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
          status = 500;
          body = ("cannot read metrics: " + e + "\n").getBytes(StandardCharsets.UTF_8);
        }
        exchange.getResponseHeaders().add("Content-Type", status == 200
            ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, "HEAD".equals(exchange.getRequestMethod()) ? -1 : body.length);
        if (!"HEAD".equals(exchange.getRequestMethod())) {
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        }
      }
    });
    server.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread thread = new Thread(r, "launcher-metrics");
      thread.setDaemon(true);
      return thread;
    }));
    server.start();
    return new MetricsServer(server);
  }

  int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
