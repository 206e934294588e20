package io.infraveil.controlplane.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.infraveil.controlplane.ServerPki;
import io.infraveil.controlplane.auth.ApiTokens;
import io.infraveil.controlplane.auth.SecurityEvents;
import io.infraveil.controlplane.ops.Metrics;
import io.infraveil.controlplane.ops.OperationsSettings;
import io.infraveil.controlplane.ops.OperationsViews;
import io.micronaut.context.annotation.Context;
import jakarta.annotation.PreDestroy;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS surface on {@code infraveil.http-port} (loopback by default), with the control
 * plane's server certificate; client certificates are asked for but not required.
 *
 * <pre>
 *   GET /status                  public status page (aggregate only), refreshed live
 *   GET /status.json             its data, public
 *   GET /client/api/operations   operations JSON: operators only (certificate or bearer token)
 *   GET /dashboard               operator dashboard over the same data: operators only
 *   GET /metrics                 Prometheus text; no credentials, keep the bind address private
 * </pre>
 */
@Context
public final class OperationsHttpServer {

  private static final Logger LOG = LoggerFactory.getLogger(OperationsHttpServer.class);

  private final OperationsViews views;
  private final OperatorAccess access;
  private final Metrics metrics;
  private final ObjectMapper json = new ObjectMapper();
  private final JsonFormat.Printer protoJson = JsonFormat.printer().omittingInsignificantWhitespace();
  private final HttpsServer server;
  private final ExecutorService executor;

  public OperationsHttpServer(OperationsSettings settings, ServerPki pki, ApiTokens tokens,
      SecurityEvents securityEvents, OperationsViews views, Metrics metrics) {
    this.views = views;
    this.metrics = metrics;
    this.access = new OperatorAccess(pki, tokens, securityEvents);
    try {
      this.server = HttpsServer.create(new InetSocketAddress(settings.httpHost(), settings.httpPort()), 64);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen for HTTPS on " + settings.httpHost() + ":" + settings.httpPort()
          + " (infraveil.http-port / --http-port): " + e.getMessage(), e);
    }
    SSLContext ssl = sslContext(pki);
    server.setHttpsConfigurator(new HttpsConfigurator(ssl) {
      @Override
      public void configure(HttpsParameters params) {
        SSLParameters parameters = getSSLContext().getDefaultSSLParameters();
        parameters.setWantClientAuth(true);
        params.setSSLParameters(parameters);
      }
    });
    this.executor = Executors.newFixedThreadPool(4, runnable -> {
      Thread thread = new Thread(runnable, "infraveil-http");
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
    LOG.info("http_listening address={} port={}", settings.httpHost(), port());
  }

  /** The bound port. */
  public int port() {
    return server.getAddress().getPort();
  }

  @PreDestroy
  void stop() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getPath();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        send(exchange, 405, "application/json", error("only GET is served here", null));
        return;
      }
      switch (path) {
        case "/", "/status" -> send(exchange, 200, "text/html; charset=utf-8", Pages.status(views.publicStatus()));
        case "/status.json" -> send(exchange, 200, "application/json", json.writeValueAsString(views.publicStatus()));
        case "/metrics" -> send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
        case "/client/api/operations", "/dashboard" -> operatorOnly(exchange, path);
        default -> send(exchange, 404, "application/json", error("no page at " + path
            + "; try /status, /dashboard, /client/api/operations or /metrics", null));
      }
    } catch (RuntimeException e) {
      LOG.error("http_error path={}: {}", exchange.getRequestURI().getPath(), e.toString(), e);
      send(exchange, 500, "application/json", error("internal error: " + e.getMessage(), null));
    }
  }

  private void operatorOnly(HttpExchange exchange, String path) throws IOException {
    var session = exchange instanceof HttpsExchange https ? https.getSSLSession() : null;
    var decision = access.decide(session, exchange.getRequestHeaders().getFirst("Authorization"), path,
        String.valueOf(exchange.getRemoteAddress()));
    if (!decision.allowed()) {
      if (decision.status() == 401) {
        exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"infraveil\"");
      }
      send(exchange, decision.status(), "application/json", error(decision.message(), decision.who()));
      return;
    }
    var operations = views.operations();
    if (path.equals("/dashboard")) {
      send(exchange, 200, "text/html; charset=utf-8", Pages.dashboard(operations, decision.who()));
    } else {
      send(exchange, 200, "application/json", protoJson.print(operations));
    }
  }

  private String error(String message, String identity) throws IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", message);
    if (identity != null) {
      body.put("identity", identity);
    }
    body.put("authenticate", OperatorAccess.HOW);
    return json.writeValueAsString(body);
  }

  private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  static SSLContext sslContext(ServerPki pki) {
    try {
      char[] password = "in-memory".toCharArray();
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("server", pki.serverKey(), password, pki.serverChain().toArray(new X509Certificate[0]));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, password);
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (X509Certificate ca : pki.trustedCas()) {
        trust.setCertificateEntry("ca-" + i++, ca);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build the HTTPS context from the server certificate: "
          + e.getMessage(), e);
    }
  }
}
