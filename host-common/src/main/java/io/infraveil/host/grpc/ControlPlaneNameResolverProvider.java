package io.infraveil.host.grpc;

import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import java.net.InetAddress;
import java.net.URI;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * The {@value #SCHEME} scheme: a channel whose target list is handed over in the channel's
 * name-resolver arguments ({@link #INPUT}), never parsed from the target string (IPv6 brackets
 * and commas make poor URIs). Registered once by {@link ControlPlaneChannels}.
 */
final class ControlPlaneNameResolverProvider extends NameResolverProvider {

  static final String SCHEME = "infraveil-control-plane";

  /** What one channel resolves, and where it records which address is which endpoint. */
  record Input(ControlPlaneEndpoints endpoints, EndpointBook book,
      ControlPlaneNameResolver.Lookup lookup) {
    Input {
      Objects.requireNonNull(endpoints, "endpoints");
      Objects.requireNonNull(book, "book");
      Objects.requireNonNull(lookup, "lookup");
    }

    /** Names looked up in the system resolver (DNS, /etc/hosts). */
    Input(ControlPlaneEndpoints endpoints, EndpointBook book) {
      this(endpoints, book, InetAddress::getAllByName);
    }
  }

  static final NameResolver.Args.Key<Input> INPUT =
      NameResolver.Args.Key.create("infraveil-control-plane-endpoints");

  @Override
  public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
    if (!SCHEME.equals(targetUri.getScheme())) {
      return null;
    }
    Input input = args.getArg(INPUT);
    if (input == null) {
      throw new IllegalArgumentException(SCHEME + " channels are built by ControlPlaneChannels,"
          + " which passes the endpoint list; got target " + targetUri + " without one");
    }
    Executor offload = args.getOffloadExecutor() != null ? args.getOffloadExecutor()
        : ForkJoinPool.commonPool();
    return new ControlPlaneNameResolver(input.endpoints(), input.book(),
        input.lookup(), offload, args.getSynchronizationContext());
  }

  @Override
  public String getDefaultScheme() {
    return SCHEME;
  }

  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    return 5;
  }
}
