package io.infraveil.host.options;

import io.infraveil.host.grpc.ControlPlaneEndpoints;
import picocli.CommandLine;

/**
 * The picocli converter of every {@code --control-plane} option and config key: one
 * {@code HOST:PORT} or a comma-separated list of replicas ({@link ControlPlaneEndpoints#parse}).
 */
public final class ControlPlaneEndpointsConverter
    implements CommandLine.ITypeConverter<ControlPlaneEndpoints> {

  @Override
  public ControlPlaneEndpoints convert(String value) {
    try {
      return ControlPlaneEndpoints.parse(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }
}
