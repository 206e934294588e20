package io.infraveil.appconfig;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One entry of a service's {@code secrets:}: the secret {@code name} set with {@code infraveil
 * ctl secrets set}, exposed to the service either as the environment variable {@code target}
 * or as the file {@code target} in the service's secrets directory ({@code
 * INFRAVEIL_SECRETS_DIR}).
 */
public record SecretRef(String name, Exposure exposure, String target) {

  /** Secret names: lower-case letters, digits, '_' and '-', starting with a letter or digit. */
  public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
  /** File names in the secrets directory: no path separators, not "." or "..". */
  public static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");

  /** How the service sees the value. */
  public enum Exposure {
    /** An environment variable of every command the service runs. */
    ENV,
    /** A file, mode 0400, in the service's secrets directory. */
    FILE
  }

  public SecretRef {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(exposure, "exposure");
    Objects.requireNonNull(target, "target");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("bad secret name " + name);
    }
  }
}
