package io.infraveil.host.grpc;

import io.infraveil.host.grpc.ControlPlaneChannels.Target;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which configured endpoint each resolved address came from, so that a connection's remote
 * address can be reported as the {@code host:port} the operator wrote. Thread-safe.
 */
final class EndpointBook {

  private final Map<InetSocketAddress, Target> byAddress = new ConcurrentHashMap<>();

  void record(InetSocketAddress address, Target endpoint) {
    byAddress.put(Objects.requireNonNull(address, "address"),
        Objects.requireNonNull(endpoint, "endpoint"));
  }

  /** The endpoint of {@code remote}; an address never resolved here is named as it is. */
  Target endpointOf(SocketAddress remote) {
    if (remote instanceof InetSocketAddress inet) {
      Target known = byAddress.get(inet);
      if (known != null) {
        return known;
      }
      // Compare by address only: the remote may carry a host name the lookup did not.
      if (inet.getAddress() != null) {
        Target same = byAddress.get(new InetSocketAddress(inet.getAddress(), inet.getPort()));
        if (same != null) {
          return same;
        }
      }
      return new Target(inet.getHostString(), inet.getPort());
    }
    return null;
  }
}
