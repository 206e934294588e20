package io.infraveil.host.payload;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.TlsContexts;
import io.netty.handler.ssl.ClientAuth;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A gRPC server on 127.0.0.1 port 0 that requires client certificates, and a host channel. */
final class MutualTlsServer implements AutoCloseable {

  private final Server server;
  final ManagedChannel channel;

  MutualTlsServer(BindableService service) throws IOException {
    CertificateAuthority ca = CertificateAuthority.create("test.infraveil", Clock.systemUTC());
    KeyPair serverKeys = KeyPairs.ecP256();
    X509Certificate serverCert = ca.issue(serverKeys.getPublic(),
        new Identity("test.infraveil", Identity.Kind.CONTROL_PLANE, "cp"), Duration.ofHours(1),
        List.of("localhost", "127.0.0.1"));
    KeyPair hostKeys = KeyPairs.ecP256();
    X509Certificate hostCert = ca.issue(hostKeys.getPublic(),
        Identity.host("test.infraveil", "host-1"), Duration.ofHours(1), List.of());
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .sslContext(TlsContexts.server(List.of(serverCert), serverKeys.getPrivate(),
            List.of(ca.certificate()), ClientAuth.REQUIRE))
        .addService(service)
        .build()
        .start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
        .sslContext(TlsContexts.client(List.of(ca.certificate()), List.of(hostCert),
            hostKeys.getPrivate()))
        .build();
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
