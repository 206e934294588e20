package io.infraveil.host.grpc;

import io.grpc.Attributes;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import io.infraveil.host.grpc.ControlPlaneChannels.Target;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Turns a list of control-plane endpoints into the addresses of one channel, in list order, each
 * address of a name that resolves to several being a candidate of its own. Every address carries
 * its endpoint's {@code host:port} as authority ({@link EquivalentAddressGroup#ATTR_AUTHORITY_OVERRIDE}),
 * so the TLS handshake checks each replica's certificate against that replica's own name, not
 * the first endpoint's. With {@code pick_first} the channel then connects to the first address
 * that answers and, when that connection breaks, starts again from the top of the list on the
 * next call. Names are looked up again whenever the channel asks (after a lost connection).
 *
 * <p>Lookups run on the channel's offload executor; results are handed over in its
 * synchronization context, where all state of this class lives.
 */
final class ControlPlaneNameResolver extends NameResolver {

  /** Looks a name up; {@code InetAddress::getAllByName} outside tests. */
  interface Lookup {
    InetAddress[] addresses(String host) throws UnknownHostException;
  }

  private final ControlPlaneEndpoints endpoints;
  private final EndpointBook book;
  private final Lookup lookup;
  private final Executor offload;
  private final SynchronizationContext sync;

  // Confined to the synchronization context.
  private Listener2 listener;
  private boolean resolving;
  private boolean shutdown;

  ControlPlaneNameResolver(ControlPlaneEndpoints endpoints, EndpointBook book, Lookup lookup,
      Executor offload, SynchronizationContext sync) {
    this.endpoints = Objects.requireNonNull(endpoints, "endpoints");
    this.book = Objects.requireNonNull(book, "book");
    this.lookup = Objects.requireNonNull(lookup, "lookup");
    this.offload = Objects.requireNonNull(offload, "offload");
    this.sync = Objects.requireNonNull(sync, "sync");
  }

  @Override
  public String getServiceAuthority() {
    return endpoints.first().toString();
  }

  @Override
  public void start(Listener2 listener) {
    this.listener = Objects.requireNonNull(listener, "listener");
    resolve();
  }

  @Override
  public void refresh() {
    resolve();
  }

  @Override
  public void shutdown() {
    shutdown = true;
  }

  private void resolve() {
    if (resolving || shutdown || listener == null) {
      return;
    }
    resolving = true;
    offload.execute(() -> {
      Resolved resolved = lookUpAll();
      sync.execute(() -> {
        resolving = false;
        if (shutdown) {
          return;
        }
        if (resolved.groups().isEmpty()) {
          listener.onError(Status.UNAVAILABLE.withDescription("no control plane endpoint of "
              + endpoints + " resolved: " + String.join("; ", resolved.failures())));
          return;
        }
        listener.onResult(ResolutionResult.newBuilder()
            .setAddresses(resolved.groups())
            .setAttributes(Attributes.EMPTY)
            .build());
      });
    });
  }

  private record Resolved(List<EquivalentAddressGroup> groups, List<String> failures) {}

  /** Blocking: DNS for names, nothing for literals. */
  private Resolved lookUpAll() {
    List<EquivalentAddressGroup> groups = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    Set<InetSocketAddress> seen = new LinkedHashSet<>();
    for (Target target : endpoints.targets()) {
      InetAddress[] addresses;
      try {
        addresses = lookup.addresses(target.host());
      } catch (UnknownHostException | RuntimeException e) {
        failures.add(target + ": " + e.getMessage());
        continue;
      }
      Attributes authority = Attributes.newBuilder()
          .set(EquivalentAddressGroup.ATTR_AUTHORITY_OVERRIDE, target.toString())
          .build();
      for (InetAddress address : addresses) {
        InetSocketAddress socket = new InetSocketAddress(address, target.port());
        if (seen.add(socket)) { // two names for one address: the first keeps it
          book.record(socket, target);
          groups.add(new EquivalentAddressGroup(socket, authority));
        }
      }
    }
    return new Resolved(groups, failures);
  }
}
