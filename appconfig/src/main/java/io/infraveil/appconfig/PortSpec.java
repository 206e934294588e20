package io.infraveil.appconfig;

import java.util.Locale;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * One named port of a service ({@code ports:} in config.yaml). A dynamic port (no {@code fixed}
 * number) is chosen by the agent per cluster index from the ports free on the host and kept for
 * that instance while it stays free; a fixed port is the same number for every cluster index
 * (share it with SO_REUSEPORT). Either way the service reads it from {@link #envName()}.
 */
public record PortSpec(String name, OptionalInt fixed) {

  /** Port names: lower-case letters, digits and underscores, starting with a letter. */
  public static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,30}");

  public PortSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(fixed, "fixed");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("bad port name \"" + name + "\"");
    }
    if (fixed.isPresent() && (fixed.getAsInt() < 1 || fixed.getAsInt() > 65535)) {
      throw new IllegalArgumentException("port " + name + " must be 1..65535, got "
          + fixed.getAsInt());
    }
  }

  /** A port the agent chooses. */
  public static PortSpec dynamic(String name) {
    return new PortSpec(name, OptionalInt.empty());
  }

  /** {@code INFRAVEIL_PORT_HTTP} for {@code http}. */
  public String envName() {
    return envName(name);
  }

  public static String envName(String portName) {
    return "INFRAVEIL_PORT_" + portName.toUpperCase(Locale.ROOT);
  }
}
