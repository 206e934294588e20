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
import io.infraveil.controlplane.dashboard.DashboardPaths;
import io.infraveil.controlplane.dashboard.DashboardSessions;
import io.infraveil.controlplane.ops.Metrics;
import io.infraveil.controlplane.ops.OperationsSettings;
import io.infraveil.controlplane.ops.OperationsViews;
import io.micronaut.context.annotation.Context;
import jakarta.annotation.PreDestroy;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS surface on {@code infraveil.http-port} (loopback by default), with the control
 * plane's server certificate; client certificates are asked for but not required. Operators
 * authenticate with a client certificate, a bearer token or a dashboard session cookie; a
 * browser (Accept: text/html) that has none gets the sign-in page, scripts a JSON 401.
 *
 * <pre>
 *   GET /status                  public status page (aggregate only), refreshed live
 *   GET /status.json             its data, public
 *   GET /client/api/operations   operations JSON: operators only (certificate or bearer token)
 *   GET /dashboard               operator dashboard over the same data: operators only
 *   GET /dashboard/hosts/NAME    one host; /dashboard/deployments/NAME one deployment
 *   GET /dashboard/sign-in?code= redeems a one-time link (ctl dashboard): session cookie
 *   POST /dashboard/sign-in-links  a link for the bearer token or certificate presented (JSON)
 *   POST /dashboard/sign-out     ends the browser's session
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
  private final DashboardSessions sessions;
  private final Clock clock;
  private final SecurityEvents securityEvents;
  private final String host;

  public OperationsHttpServer(OperationsSettings settings, ServerPki pki, ApiTokens tokens,
      SecurityEvents securityEvents, OperationsViews views, Metrics metrics, DashboardSessions sessions,
      Clock clock) {
    this.views = views;
    this.sessions = sessions;
    this.clock = clock;
    this.securityEvents = securityEvents;
    this.host = settings.httpHost();
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

  /**
   * {@code https://host:port} as a browser on this machine or the operator's reaches it: the
   * bind address, or this machine's name when bound to every address.
   */
  public String baseUrl() {
    String name = host;
    try {
      InetAddress address = InetAddress.getByName(host);
      if (address.isAnyLocalAddress()) {
        name = InetAddress.getLocalHost().getHostName();
      }
    } catch (IOException e) {
      // Keep the configured name: it is what the operator wrote.
    }
    if (name.contains(":") && !name.startsWith("[")) {
      name = "[" + name + "]";
    }
    return "https://" + name + ":" + port();
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
      if (method.equals("POST") && (path.equals(DashboardPaths.SIGN_IN_LINKS) || path.equals(DashboardPaths.SIGN_OUT))) {
        if (path.equals(DashboardPaths.SIGN_OUT)) {
          signOut(exchange);
        } else {
          signInLink(exchange);
        }
        return;
      }
      if (!method.equals("GET") && !method.equals("HEAD")) {
        send(exchange, 405, "application/json", error("only GET is served here (POST only on "
            + DashboardPaths.SIGN_IN_LINKS + " and " + DashboardPaths.SIGN_OUT + ")", null));
        return;
      }
      if (path.startsWith("/dashboard/hosts/") || path.startsWith("/dashboard/deployments/")) {
        operatorOnly(exchange, path);
        return;
      }
      switch (path) {
        case DashboardPaths.SIGN_IN -> signIn(exchange);
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
    String authorization = exchange.getRequestHeaders().getFirst("Authorization");
    Optional<String> cookie = SessionCookie.read(exchange.getRequestHeaders().get("Cookie"));
    Optional<DashboardSessions.Session> browser = authorization == null
        ? cookie.flatMap(sessions::session) : Optional.empty();
    String who;
    if (browser.isPresent()) {
      who = browser.get().principal().name();
    } else {
      var decision = access.decide(tlsSession(exchange), authorization, path, String.valueOf(exchange.getRemoteAddress()));
      if (!decision.allowed()) {
        if (decision.status() == 401) {
          exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"infraveil\"");
          if (cookie.isPresent()) {
            exchange.getResponseHeaders().add("Set-Cookie", SessionCookie.clear());
          }
          if (wantsHtml(exchange)) {
            send(exchange, 401, "text/html; charset=utf-8", DashboardPages.signIn(cookie.isPresent()
                ? "Your session has ended (it expired, was revoked, or its credential was)."
                : "This browser is not signed in."));
            return;
          }
        }
        send(exchange, decision.status(), "application/json", error(decision.message(), decision.who()));
        return;
      }
      who = decision.who();
    }
    var operations = views.operations();
    boolean session = browser.isPresent();
    String html;
    if (path.equals("/dashboard")) {
      html = Pages.dashboard(operations, who, session);
    } else if (path.startsWith("/dashboard/hosts/")) {
      html = DashboardPages.refreshing(DashboardPages.host(operations, lastSegment(path), who, session));
    } else if (path.startsWith("/dashboard/deployments/")) {
      html = DashboardPages.refreshing(DashboardPages.deployment(operations, lastSegment(path), who, session));
    } else {
      send(exchange, 200, "application/json", protoJson.print(operations));
      return;
    }
    exchange.getResponseHeaders().set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; "
        + "frame-ancestors 'none'; form-action 'self'");
    send(exchange, 200, "text/html; charset=utf-8", html);
  }

  /** GET /dashboard/sign-in?code=: a used, expired or unknown code gets the sign-in page saying which. */
  private void signIn(HttpExchange exchange) throws IOException {
    if (exchange.getRequestMethod().equals("HEAD")) {
      send(exchange, 200, "text/html; charset=utf-8", ""); // a link checker must not use the link up
      return;
    }
    String code = queryParameter(exchange, "code");
    var redeemed = sessions.redeem(code);
    if (redeemed.session().isEmpty()) {
      var refusal = redeemed.refusal().orElseThrow();
      LOG.info("dashboard_sign_in_refused reason={} peer={}", refusal, exchange.getRemoteAddress());
      securityEvents.record("DASHBOARD_LINK_REFUSED", null, "GET " + DashboardPaths.SIGN_IN,
          refusal.name() + ": " + refusal.message(), String.valueOf(exchange.getRemoteAddress()));
      send(exchange, 403, "text/html; charset=utf-8", DashboardPages.signIn(redeemed.refusal().orElseThrow().message()
          + "."));
      return;
    }
    var session = redeemed.session().get();
    LOG.info("dashboard_signed_in who={} expires_at={}", session.principal().name(), session.expiresAt());
    exchange.getResponseHeaders().add("Set-Cookie", SessionCookie.set(session.id(), clock.instant(), session.expiresAt()));
    exchange.getResponseHeaders().set("Referrer-Policy", "no-referrer");
    send(exchange, 200, "text/html; charset=utf-8", DashboardPages.signedIn(session.principal().name()));
  }

  /** POST /dashboard/sign-in-links: a link for the bearer token (or certificate) presented. */
  private void signInLink(HttpExchange exchange) throws IOException {
    var decision = access.decide(tlsSession(exchange), exchange.getRequestHeaders().getFirst("Authorization"),
        DashboardPaths.SIGN_IN_LINKS, String.valueOf(exchange.getRemoteAddress()));
    if (!decision.allowed()) {
      send(exchange, decision.status(), "application/json", error(decision.message(), decision.who()));
      return;
    }
    var link = sessions.createLink(decision.principal(), Duration.ZERO);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("url", baseUrl() + DashboardPaths.signInPath(link.code()));
    body.put("path", DashboardPaths.signInPath(link.code()));
    body.put("expiresAt", link.expiresAt().toString());
    body.put("sessionExpiresAt", link.sessionExpiresAt().toString());
    send(exchange, 200, "application/json", json.writeValueAsString(body));
  }

  /** POST /dashboard/sign-out: ends this browser's session and clears its cookie. */
  private void signOut(HttpExchange exchange) throws IOException {
    SessionCookie.read(exchange.getRequestHeaders().get("Cookie")).ifPresent(sessions::revokeSession);
    exchange.getResponseHeaders().add("Set-Cookie", SessionCookie.clear());
    send(exchange, 200, "text/html; charset=utf-8", DashboardPages.signIn("You are signed out."));
  }

  private static SSLSession tlsSession(HttpExchange exchange) {
    return exchange instanceof HttpsExchange https ? https.getSSLSession() : null;
  }

  private static boolean wantsHtml(HttpExchange exchange) {
    String accept = exchange.getRequestHeaders().getFirst("Accept");
    return accept != null && accept.contains("text/html");
  }

  private static String lastSegment(String path) {
    return URLDecoder.decode(path.substring(path.lastIndexOf('/') + 1), StandardCharsets.UTF_8);
  }

  private static String queryParameter(HttpExchange exchange, String name) {
    String query = exchange.getRequestURI().getRawQuery();
    if (query == null) {
      return null;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0 && pair.substring(0, eq).equals(name)) {
        return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
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
