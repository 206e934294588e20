package io.infraveil.host.grpc;

import io.grpc.ManagedChannel;
import io.grpc.netty.NegotiationType;
import io.grpc.netty.NettyChannelBuilder;
import io.infraveil.certs.TlsContexts;
import io.infraveil.certs.TlsProvider;
import io.netty.channel.epoll.Epoll;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Channels from a host (launcher or agent) to the control plane. Always TLS; with the host
 * certificate (mutual TLS) once enrolled, anonymous only for enrollment. Keepalive pings notice
 * a peer that vanished without a FIN or RST (a blackholed network) within
 * {@code keepAliveTime + keepAliveTimeout}: 20 s with the defaults, inside the 30 s budget.
 *
 * <p>The server must permit pings this frequent ({@code permitKeepAliveTime} at most the
 * client's keepAliveTime, {@code permitKeepAliveWithoutCalls(true)}) or it answers with
 * GOAWAY ENHANCE_YOUR_CALM.
 */
public final class ControlPlaneChannels {

  /** Transport settings. gRPC clamps keepAliveTime to at least 10 s. */
  public record Settings(Duration keepAliveTime, Duration keepAliveTimeout,
      boolean keepAliveWithoutCalls, int maxInboundMessageBytes) {

    public static final Settings DEFAULTS =
        new Settings(Duration.ofSeconds(10), Duration.ofSeconds(10), true, 8 * 1024 * 1024);

    public Settings {
      Objects.requireNonNull(keepAliveTime, "keepAliveTime");
      Objects.requireNonNull(keepAliveTimeout, "keepAliveTimeout");
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

    /** Parses "host:port" (an IPv6 literal in brackets: "[::1]:7443"). */
    public static Target parse(String hostPort) {
      Objects.requireNonNull(hostPort, "hostPort");
      int colon = hostPort.lastIndexOf(':');
      if (colon <= 0 || colon == hostPort.length() - 1) {
        throw new IllegalArgumentException("control plane address \"" + hostPort
            + "\" must look like host:port");
      }
      String host = hostPort.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      try {
        return new Target(host, Integer.parseInt(hostPort.substring(colon + 1)));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("control plane address \"" + hostPort
            + "\" has a port that is not a number", e);
      }
    }

    @Override
    public String toString() {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  private static final System.Logger LOG = System.getLogger(ControlPlaneChannels.class.getName());
  private static final AtomicBoolean TRANSPORT_LOGGED = new AtomicBoolean();

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
   * A mutual-TLS channel using the host's CA, certificate and key from {@code identity}; a
   * renewed certificate is presented from the next handshake on.
   */
  public static ManagedChannel mutualTls(String hostPort, HostIdentityFiles identity,
      Settings settings) throws IOException {
    SslContext tls = TlsContexts.reloadingClient(identity.caFile(), identity.certificateFile(),
        identity.keyFile());
    return build(Target.parse(hostPort), tls, settings);
  }

  /** A TLS channel that trusts {@code caFile} and presents no certificate (enrollment only). */
  public static ManagedChannel anonymous(String hostPort, Path caFile, Settings settings)
      throws IOException {
    return build(Target.parse(hostPort), TlsContexts.client(caFile, null, null), settings);
  }

  /** A channel with a ready TLS context; the others delegate here. */
  public static ManagedChannel build(Target target, SslContext tls, Settings settings) {
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(settings, "settings");
    if (TRANSPORT_LOGGED.compareAndSet(false, true)) {
      // grpc-netty picks the native epoll transport itself where it loads, NIO elsewhere.
      LOG.log(System.Logger.Level.INFO, "grpc_transport " + TlsProvider.description() + " transport="
          + (Epoll.isAvailable() ? "epoll" : "nio"));
    }
    return NettyChannelBuilder.forAddress(target.host(), target.port())
        .negotiationType(NegotiationType.TLS)
        .sslContext(tls)
        .keepAliveTime(settings.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTimeout(settings.keepAliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveWithoutCalls(settings.keepAliveWithoutCalls())
        .maxInboundMessageSize(settings.maxInboundMessageBytes())
        .build();
  }
}
