package io.infraveil.cli.ctl;

import io.infraveil.cli.CliException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where {@code ctl} connects and with which credentials, read from a small file in YAML or
 * properties form:
 *
 * <pre>
 * endpoint: localhost:7443
 * ca: ca.crt          # paths are relative to this file's directory
 * cert: alice.crt
 * key: alice.key
 * http: https://localhost:7080   # optional: the operations API, status page and dashboard
 * </pre>
 *
 * Without {@code http} the HTTPS endpoint is taken to be the gRPC endpoint's host on the
 * control plane's default HTTP port, {@value #DEFAULT_HTTP_PORT}. Unknown keys are ignored so that newer files still work with older command lines.
 */
record CtlContext(Path file, String host, int port, Path ca, Path cert, Path key, URI http) {

  static final String ENV = "INFRAVEIL_CONTEXT";
  /** The control plane's default {@code infraveil.http-port}. */
  static final int DEFAULT_HTTP_PORT = 7080;

  CtlContext {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(ca, "ca");
    Objects.requireNonNull(cert, "cert");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(http, "http");
  }

  /** The operations API: {@code GET} it with an operator certificate or an API token. */
  URI operationsUrl() {
    return http.resolve("/client/api/operations");
  }

  String endpoint() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /** Reads a context file; every problem names the file and the key. */
  static CtlContext load(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new CliException("context file " + file + " does not exist");
    }
    Map<String, String> values = parse(Files.readAllLines(file));
    Path base = file.toAbsolutePath().getParent();
    String endpoint = required(file, values, "endpoint");
    HostPort hostPort = HostPort.parse(endpoint, file);
    return new CtlContext(file, hostPort.host(), hostPort.port(),
        existing(file, base, values, "ca"), existing(file, base, values, "cert"),
        existing(file, base, values, "key"), http(file, values.get("http"), hostPort.host()));
  }

  private static URI http(Path file, String value, String grpcHost) {
    if (value == null || value.isBlank()) {
      String host = grpcHost.contains(":") ? "[" + grpcHost + "]" : grpcHost;
      return URI.create("https://" + host + ":" + DEFAULT_HTTP_PORT);
    }
    URI uri;
    try {
      uri = new URI(value.endsWith("/") ? value.substring(0, value.length() - 1) : value);
    } catch (URISyntaxException e) {
      throw new CliException("context file " + file + ": http \"" + value + "\" is not a URL");
    }
    if (!"https".equals(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 1
        || (uri.getPath() != null && !uri.getPath().isEmpty())) {
      throw new CliException("context file " + file + ": http \"" + value
          + "\" must be https://HOST:PORT (the control plane serves HTTP over TLS only)");
    }
    return uri;
  }

  /** {@code key: value} or {@code key=value} lines; {@code #} starts a comment. */
  static Map<String, String> parse(List<String> lines) {
    Map<String, String> values = new HashMap<>();
    for (String raw : lines) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#") || line.equals("---")) {
        continue;
      }
      int colon = line.indexOf(':');
      int equals = line.indexOf('=');
      int split = colon < 0 ? equals : equals < 0 ? colon : Math.min(colon, equals);
      if (split <= 0) {
        continue;
      }
      String value = line.substring(split + 1).strip();
      int comment = value.indexOf(" #");
      if (comment >= 0) {
        value = value.substring(0, comment).strip();
      }
      if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
          || value.startsWith("'") && value.endsWith("'"))) {
        value = value.substring(1, value.length() - 1);
      }
      values.put(line.substring(0, split).strip(), value);
    }
    return values;
  }

  private static String required(Path file, Map<String, String> values, String key) {
    String value = values.get(key);
    if (value == null || value.isBlank()) {
      throw new CliException("context file " + file + " has no `" + key + "`; it needs "
          + "endpoint, ca, cert and key");
    }
    return value;
  }

  private static Path existing(Path file, Path base, Map<String, String> values, String key) {
    Path path = base.resolve(required(file, values, key)).normalize();
    if (!Files.isRegularFile(path)) {
      throw new CliException("context file " + file + ": `" + key + "` " + path
          + " does not exist");
    }
    return path;
  }

  /** A host and port, with IPv6 literals in brackets. */
  record HostPort(String host, int port) {
    static HostPort parse(String endpoint, Path file) {
      String text = endpoint;
      if (text.startsWith("https://")) {
        text = text.substring("https://".length());
      }
      int colon = text.lastIndexOf(':');
      if (colon <= 0 || colon == text.length() - 1) {
        throw new CliException("context file " + file + ": endpoint \"" + endpoint
            + "\" must be HOST:PORT");
      }
      String host = text.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      try {
        int port = Integer.parseInt(text.substring(colon + 1));
        if (port < 1 || port > 65535) {
          throw new NumberFormatException();
        }
        return new HostPort(host, port);
      } catch (NumberFormatException e) {
        throw new CliException("context file " + file + ": endpoint \"" + endpoint
            + "\" has no valid port");
      }
    }
  }
}
