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
 * {@code GET /metrics}, plain HTTP: the host's one Prometheus endpoint (the launcher's metrics
 * and every agent's). Loopback unless {@code --metrics-bind} says otherwise: it asks for no
 * credentials, so bind it only to an address the scraper's network alone reaches.
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
    return startUnlessOff(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), metrics, log);
  }

  /** As {@link #startUnlessOff(int, LauncherMetrics, LauncherLog)}, on the address given. */
  static MetricsServer startUnlessOff(InetSocketAddress bind, LauncherMetrics metrics, LauncherLog log) {
    if (bind.getPort() == 0) {
      log.event("metrics_off", "reason", "METRICS_PORT_0");
      return null;
    }
    try {
      return start(bind, metrics);
    } catch (IOException e) {
      log.event("metrics_off", "reason", "PORT_UNAVAILABLE", "address", bind, "error", e.toString());
      return null;
    }
  }

  /** Serves {@code metrics} on 127.0.0.1:{@code port} (0 picks a free port). */
  static MetricsServer start(int port, LauncherMetrics metrics) throws IOException {
    return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), metrics);
  }

  /** Serves {@code metrics} on {@code bind} (port 0 picks a free port). */
  static MetricsServer start(InetSocketAddress bind, LauncherMetrics metrics) throws IOException {
    Objects.requireNonNull(metrics, "metrics");
    HttpServer server = HttpServer.create(bind, 16);
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

  /** {@code http://address:port/metrics} as bound. */
  String url() {
    InetSocketAddress address = server.getAddress();
    String host = address.getAddress().getHostAddress();
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort() + "/metrics";
  }

  /**
   * Parses {@code --metrics-bind}: {@code HOST:PORT}, {@code [IPv6]:PORT} or {@code :PORT}
   * (every address). Port 0 turns metrics off.
   */
  static InetSocketAddress parseBind(String value) {
    int colon = value.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("--metrics-bind \"" + value + "\" needs HOST:PORT, e.g. 0.0.0.0:7081");
    }
    String host = value.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(value.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--metrics-bind \"" + value + "\": the port is not a number", e);
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--metrics-bind \"" + value + "\": port " + port + " is out of range");
    }
    return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
