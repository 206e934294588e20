package io.infraveil.cli.ctl;

import io.infraveil.cli.CliException;
import io.infraveil.host.grpc.ControlPlaneEndpoints;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where {@code ctl} connects and with which credentials, read from a small file in YAML or
 * properties form:
 *
 * <pre>
 * endpoint: localhost:7443        # or several replicas: cp-a:7443,cp-b:7443
 * ca: ca.crt          # paths are relative to this file's directory
 * cert: alice.crt
 * key: alice.key
 * http: https://localhost:7080   # optional: the operations API, status page and dashboard
 * </pre>
 *
 * The replicas of a control plane may also be listed one per line under {@code endpoints}:
 *
 * <pre>
 * endpoints:
 *   - cp-a.example.org:7443
 *   - cp-b.example.org:7443
 * </pre>
 *
 * {@code ctl} tries them in order and uses the first that answers. Without {@code http} the
 * HTTPS endpoint is taken to be the first gRPC endpoint's host on the control plane's default
 * HTTP port, {@value #DEFAULT_HTTP_PORT}. Unknown keys are ignored so that newer files still
 * work with older command lines.
 */
record CtlContext(Path file, ControlPlaneEndpoints endpoints, Path ca, Path cert, Path key,
    URI http) {

  static final String ENV = "INFRAVEIL_CONTEXT";
  /** The control plane's default {@code infraveil.http-port}. */
  static final int DEFAULT_HTTP_PORT = 7080;

  CtlContext {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(endpoints, "endpoints");
    Objects.requireNonNull(ca, "ca");
    Objects.requireNonNull(cert, "cert");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(http, "http");
  }

  /** The operations API: {@code GET} it with an operator certificate or an API token. */
  URI operationsUrl() {
    return http.resolve("/client/api/operations");
  }

  /** The endpoints as {@code --control-plane} takes them: {@code a:7443,b:7443}. */
  String endpoint() {
    return endpoints.toString();
  }

  /** The first endpoint's host. */
  String host() {
    return endpoints.first().host();
  }

  /** The first endpoint's port. */
  int port() {
    return endpoints.first().port();
  }

  /** Reads a context file; every problem names the file and the key. */
  static CtlContext load(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new CliException("context file " + file + " does not exist");
    }
    Map<String, String> values = parse(Files.readAllLines(file));
    Path base = file.toAbsolutePath().getParent();
    ControlPlaneEndpoints endpoints = endpoints(file, values);
    return new CtlContext(file, endpoints,
        existing(file, base, values, "ca"), existing(file, base, values, "cert"),
        existing(file, base, values, "key"),
        http(file, values.get("http"), endpoints.first().host()));
  }

  /** {@code endpoint} (one or a comma-separated list) or {@code endpoints}, not both. */
  private static ControlPlaneEndpoints endpoints(Path file, Map<String, String> values) {
    String one = values.get("endpoint");
    String many = values.get("endpoints");
    boolean hasOne = one != null && !one.isBlank();
    boolean hasMany = many != null && !many.isBlank();
    if (hasOne && hasMany) {
      throw new CliException("context file " + file + " has both `endpoint` and `endpoints`;"
          + " keep one (either takes a comma-separated list)");
    }
    String key = hasMany ? "endpoints" : "endpoint";
    String list = required(file, values, key);
    List<String> items = new ArrayList<>();
    for (String part : list.split(",", -1)) {
      String item = part.strip();
      // Older files wrote the URL form.
      items.add(item.startsWith("https://") ? item.substring("https://".length()) : item);
    }
    try {
      return ControlPlaneEndpoints.parse(String.join(",", items));
    } catch (IllegalArgumentException e) {
      throw new CliException("context file " + file + ": `" + key + "`: " + e.getMessage());
    }
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

  /**
   * {@code key: value} or {@code key=value} lines; {@code #} starts a comment. A key with no
   * value followed by {@code - item} lines gets the items joined by commas.
   */
  static Map<String, String> parse(List<String> lines) {
    Map<String, String> values = new HashMap<>();
    String listKey = null;
    for (String raw : lines) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#") || line.equals("---")) {
        continue;
      }
      if (line.startsWith("- ") || line.equals("-")) {
        if (listKey != null) {
          String item = unquote(line.substring(1).strip());
          values.merge(listKey, item, (before, next) -> before.isEmpty() ? next
              : before + "," + next);
        }
        continue;
      }
      listKey = null;
      int colon = line.indexOf(':');
      int equals = line.indexOf('=');
      int split = colon < 0 ? equals : equals < 0 ? colon : Math.min(colon, equals);
      if (split <= 0) {
        continue;
      }
      String value = unquote(line.substring(split + 1).strip());
      String key = line.substring(0, split).strip();
      values.put(key, value);
      if (value.isEmpty()) {
        listKey = key;
      }
    }
    return values;
  }

  /** Drops a trailing {@code # comment} and surrounding quotes. */
  private static String unquote(String text) {
    String value = text;
    int comment = value.startsWith("#") ? 0 : value.indexOf(" #");
    if (comment >= 0) {
      value = value.substring(0, comment).strip();
    }
    if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
        || value.startsWith("'") && value.endsWith("'"))) {
      value = value.substring(1, value.length() - 1);
    }
    return value;
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
}
