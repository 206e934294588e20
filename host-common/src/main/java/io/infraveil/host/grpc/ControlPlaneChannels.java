package io.infraveil.host.grpc;

import io.grpc.ManagedChannel;
import io.grpc.NameResolverRegistry;
import io.grpc.netty.NegotiationType;
import io.grpc.netty.NettyChannelBuilder;
import io.infraveil.certs.TlsContexts;
import io.infraveil.certs.TlsProvider;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.random.RandomGenerator;

/**
 * Channels from a host (launcher or agent) or {@code ctl} to the control plane, one replica or
 * several ({@link ControlPlaneEndpoints}): a failed connection moves to the next endpoint, and
 * {@link ControlPlaneChannel#answering()} says which replica answers now. Always TLS, each
 * replica checked against its own name; with the host certificate (mutual TLS) once enrolled,
 * anonymous only for enrollment. Keepalive pings notice
 * a peer that vanished without a FIN or RST (a blackholed network) within
 * {@code keepAliveTime + keepAliveTimeout}: 20 s with the defaults, inside the 30 s budget.
 *
 * <p>The server must permit pings this frequent ({@code permitKeepAliveTime} at most the
 * client's keepAliveTime, {@code permitKeepAliveWithoutCalls(true)}) or it answers with
 * GOAWAY ENHANCE_YOUR_CALM.
 */
public final class ControlPlaneChannels {

  /**
   * Transport settings. gRPC clamps keepAliveTime to at least 10 s. {@code connectTimeout}
   * bounds one TCP connect, so an unreachable replica (a blackholed address) costs that long
   * before the next endpoint of the list is tried.
   */
  public record Settings(Duration keepAliveTime, Duration keepAliveTimeout,
      boolean keepAliveWithoutCalls, int maxInboundMessageBytes, Duration connectTimeout) {

    public static final Settings DEFAULTS = new Settings(Duration.ofSeconds(10),
        Duration.ofSeconds(10), true, 8 * 1024 * 1024, Duration.ofSeconds(5));

    public Settings {
      Objects.requireNonNull(keepAliveTime, "keepAliveTime");
      Objects.requireNonNull(keepAliveTimeout, "keepAliveTimeout");
      Objects.requireNonNull(connectTimeout, "connectTimeout");
      if (keepAliveTime.isNegative() || keepAliveTime.isZero()) {
        throw new IllegalArgumentException("keepAliveTime must be positive, got " + keepAliveTime);
      }
      if (keepAliveTimeout.isNegative() || keepAliveTimeout.isZero()) {
        throw new IllegalArgumentException("keepAliveTimeout must be positive, got "
            + keepAliveTimeout);
      }
      if (maxInboundMessageBytes <= 0) {
        throw new IllegalArgumentException("maxInboundMessageBytes must be positive, got "
            + maxInboundMessageBytes);
      }
      if (connectTimeout.isNegative() || connectTimeout.isZero()
          || connectTimeout.toMillis() > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("connectTimeout must be positive, got "
            + connectTimeout);
      }
    }

    /** With the default connect timeout. */
    public Settings(Duration keepAliveTime, Duration keepAliveTimeout,
        boolean keepAliveWithoutCalls, int maxInboundMessageBytes) {
      this(keepAliveTime, keepAliveTimeout, keepAliveWithoutCalls, maxInboundMessageBytes,
          Duration.ofSeconds(5));
    }
  }

  /** A parsed {@code host:port}. */
  public record Target(String host, int port) {
    public Target {
      Objects.requireNonNull(host, "host");
      if (host.isBlank()) {
        throw new IllegalArgumentException("control plane host is empty");
      }
      if (port <= 0 || port > 65535) {
        throw new IllegalArgumentException("control plane port " + port + " is out of range");
      }
    }

    /**
     * Parses "host:port" (an IPv6 literal in brackets: "[::1]:7443").
     *
     * @throws IllegalArgumentException naming the value: no port, a port that is not a number
     *     or out of range, an IPv6 literal without brackets
     */
    public static Target parse(String hostPort) {
      Objects.requireNonNull(hostPort, "hostPort");
      int colon = hostPort.lastIndexOf(':');
      if (colon <= 0 || colon == hostPort.length() - 1) {
        throw new IllegalArgumentException("control plane endpoint \"" + hostPort
            + "\" must look like HOST:PORT");
      }
      String host = hostPort.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      } else if (host.contains(":") || host.contains("[") || host.contains("]")) {
        throw new IllegalArgumentException("control plane endpoint \"" + hostPort
            + "\": write an IPv6 address in brackets, as in [::1]:7443");
      }
      int port;
      try {
        port = Integer.parseInt(hostPort.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("control plane endpoint \"" + hostPort
            + "\" has a port that is not a number", e);
      }
      if (port <= 0 || port > 65535) {
        throw new IllegalArgumentException("control plane endpoint \"" + hostPort
            + "\" has port " + port + ", outside 1-65535");
      }
      if (host.isBlank()) {
        throw new IllegalArgumentException("control plane endpoint \"" + hostPort
            + "\" has no host");
      }
      return new Target(host, port);
    }

    @Override
    public String toString() {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  private static final System.Logger LOG = System.getLogger(ControlPlaneChannels.class.getName());
  private static final AtomicBoolean TRANSPORT_LOGGED = new AtomicBoolean();

  static {
    // The scheme of every channel built here; its endpoint list travels in the channel's
    // name-resolver arguments.
    NameResolverRegistry.getDefaultRegistry().register(new ControlPlaneNameResolverProvider());
  }

  private ControlPlaneChannels() {}

  /**
   * Before a reconnect attempt of our own: lets the channel connect at once. A channel's own
   * connect backoff grows to 120 s while the control plane is away, and RPCs fail fast until it
   * expires, so after a long absence the first attempts of our 1 s → 30 s jittered backoff
   * would fail without trying. Our backoff decides the pace; other channels are left alone.
   */
  public static void connectNow(io.grpc.Channel channel) {
    if (channel instanceof ManagedChannel managed) {
      managed.resetConnectBackoff();
    }
  }

  /**
   * A mutual-TLS channel to any of {@code endpoints} (one {@code HOST:PORT} or a comma-separated
   * list, see {@link ControlPlaneEndpoints#parse}) using the host's CA, certificate and key from
   * {@code identity}, the same identity whichever replica answers; a renewed certificate is
   * presented from the next handshake on. The list is shuffled so hosts spread over replicas.
   *
   * @throws IllegalArgumentException when {@code endpoints} is not a valid list (the message
   *     names the bad element)
   */
  public static ControlPlaneChannel mutualTls(String endpoints, HostIdentityFiles identity,
      Settings settings) throws IOException {
    return mutualTls(ControlPlaneEndpoints.parse(endpoints), identity, settings,
        RandomGenerator.getDefault());
  }

  /** As above, with the list parsed and the shuffle drawn from {@code random}. */
  public static ControlPlaneChannel mutualTls(ControlPlaneEndpoints endpoints,
      HostIdentityFiles identity, Settings settings, RandomGenerator random) throws IOException {
    // Once per host daemon (ctl builds its channels elsewhere: its stdout is its answer).
    // grpc-netty picks the native epoll transport itself where it loads, NIO elsewhere.
    if (TRANSPORT_LOGGED.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.INFO, "grpc_transport " + TlsProvider.description() + " transport="
          + (Epoll.isAvailable() ? "epoll" : "nio"));
    }
    SslContext tls = TlsContexts.reloadingClient(identity.caFile(), identity.certificateFile(),
        identity.keyFile());
    return build(endpoints.shuffled(random), tls, settings);
  }

  /**
   * A TLS channel to any of {@code endpoints} that trusts {@code caFile} and presents no
   * certificate (enrollment only), trying them in the order given.
   */
  public static ControlPlaneChannel anonymous(String endpoints, Path caFile, Settings settings)
      throws IOException {
    return build(ControlPlaneEndpoints.parse(endpoints), TlsContexts.client(caFile, null, null),
        settings);
  }

  /** A channel to one endpoint with a ready TLS context. */
  public static ControlPlaneChannel build(Target target, SslContext tls, Settings settings) {
    return build(ControlPlaneEndpoints.of(target), tls, settings);
  }

  /**
   * A channel with a ready TLS context to the first of {@code endpoints} that answers, in the
   * order given (callers shuffle); the others delegate here. {@code pick_first} keeps one
   * connection; when it breaks, the next call connects again from the top of the list.
   */
  public static ControlPlaneChannel build(ControlPlaneEndpoints endpoints, SslContext tls,
      Settings settings) {
    return build(endpoints, tls, settings, InetAddress::getAllByName);
  }

  /**
   * As above, on {@code eventLoop} with sockets of {@code channelType} instead of gRPC's shared
   * event loop, which outlives its last channel by a second. For a command that exits right
   * after its call: it shuts its own loop down first, since the JVM waits up to 300 ms at exit
   * for a thread still inside a native call (an event loop in epoll_wait).
   */
  public static ControlPlaneChannel build(ControlPlaneEndpoints endpoints, SslContext tls,
      Settings settings, EventLoopGroup eventLoop,
      Class<? extends io.netty.channel.Channel> channelType) {
    Objects.requireNonNull(eventLoop, "eventLoop");
    Objects.requireNonNull(channelType, "channelType");
    return build(endpoints, tls, settings, InetAddress::getAllByName, builder ->
        builder.eventLoopGroup(eventLoop).channelType(channelType));
  }

  /** As above, looking names up with {@code lookup} (tests give a name several addresses). */
  static ControlPlaneChannel build(ControlPlaneEndpoints endpoints, SslContext tls,
      Settings settings, ControlPlaneNameResolver.Lookup lookup) {
    return build(endpoints, tls, settings, lookup, builder -> builder);
  }

  private static ControlPlaneChannel build(ControlPlaneEndpoints endpoints, SslContext tls,
      Settings settings, ControlPlaneNameResolver.Lookup lookup,
      java.util.function.UnaryOperator<NettyChannelBuilder> transport) {
    Objects.requireNonNull(endpoints, "endpoints");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(settings, "settings");
    EndpointBook book = new EndpointBook();
    String target = ControlPlaneNameResolverProvider.SCHEME + ":///"
        + URLEncoder.encode(endpoints.toString(), StandardCharsets.UTF_8);
    return ControlPlaneChannel.create(endpoints, book, tracker ->
        transport.apply(NettyChannelBuilder.forTarget(target))
            .setNameResolverArg(ControlPlaneNameResolverProvider.INPUT,
                new ControlPlaneNameResolverProvider.Input(endpoints, book, lookup))
            .defaultLoadBalancingPolicy("pick_first")
            .negotiationType(NegotiationType.TLS)
            .sslContext(tls)
            .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) settings.connectTimeout().toMillis())
            .keepAliveTime(settings.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
            .keepAliveTimeout(settings.keepAliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .keepAliveWithoutCalls(settings.keepAliveWithoutCalls())
            .maxInboundMessageSize(settings.maxInboundMessageBytes())
            .intercept(tracker)
            .build());
  }
}
