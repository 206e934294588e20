package io.infraveil.certs;

import java.net.URI;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Who a certificate speaks for: {@code spiffe://<trust-domain>/<kind>/<name>}, carried as the
 * certificate's URI SAN. Hosts and operators are told apart by kind; agents act as their host.
 */
public record Identity(String trustDomain, Kind kind, String name) {

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?");
  private static final Pattern DOMAIN = Pattern.compile("[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?");

  /** What kind of party an identity names. */
  public enum Kind {
    HOST("host"),
    OPERATOR("operator"),
    CONTROL_PLANE("controlplane");

    private final String path;

    Kind(String path) {
      this.path = path;
    }

    public String path() {
      return path;
    }

    static Kind fromPath(String path) {
      for (Kind kind : values()) {
        if (kind.path.equals(path)) {
          return kind;
        }
      }
      throw new IllegalArgumentException("unknown identity kind \"" + path
          + "\": expected host, operator or controlplane");
    }
  }

  public Identity {
    Objects.requireNonNull(kind, "kind");
    requireValid(DOMAIN, trustDomain, "trust domain");
    requireValid(NAME, name, kind.path() + " name");
  }

  public static Identity host(String trustDomain, String name) {
    return new Identity(trustDomain, Kind.HOST, name);
  }

  public static Identity operator(String trustDomain, String name) {
    return new Identity(trustDomain, Kind.OPERATOR, name);
  }

  /** Parses {@code spiffe://domain/kind/name}. */
  public static Identity parse(String uri) {
    Objects.requireNonNull(uri, "uri");
    URI parsed = URI.create(uri);
    if (!"spiffe".equals(parsed.getScheme()) || parsed.getHost() == null) {
      throw new IllegalArgumentException("not a spiffe identity: " + uri);
    }
    String[] parts = parsed.getPath().split("/");
    if (parts.length != 3 || !parts[0].isEmpty()) {
      throw new IllegalArgumentException("identity " + uri + " must look like spiffe://<trust-domain>/<kind>/<name>");
    }
    return new Identity(parsed.getHost(), Kind.fromPath(parts[1]), parts[2]);
  }

  /** Checks a host or operator name without building an identity. */
  public static boolean isValidName(String name) {
    return name != null && NAME.matcher(name).matches();
  }

  public String uri() {
    return "spiffe://" + trustDomain + "/" + kind.path() + "/" + name;
  }

  public boolean isHost() {
    return kind == Kind.HOST;
  }

  public boolean isOperator() {
    return kind == Kind.OPERATOR;
  }

  @Override
  public String toString() {
    return uri();
  }

  private static void requireValid(Pattern pattern, String value, String what) {
    if (value == null || !pattern.matcher(value).matches()) {
      throw new IllegalArgumentException(what + " \"" + value + "\" is invalid: use lower-case "
          + "letters, digits, dots and dashes, starting and ending with a letter or digit");
    }
    if (!value.equals(value.toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException(what + " must be lower case: " + value);
    }
  }
}
