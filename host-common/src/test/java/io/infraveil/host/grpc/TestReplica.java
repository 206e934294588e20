package io.infraveil.host.grpc;

import io.grpc.Grpc;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Metadata;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.TlsContexts;
import io.netty.handler.ssl.ClientAuth;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * A control-plane replica stand-in: a real gRPC server with mutual TLS on a loopback address,
 * whose server certificate names only {@code sans}. {@code Who} answers the replica's name and
 * the subject of the client certificate it saw; {@code Watch} sends the name and stays open, as
 * a Sync stream does.
 */
final class TestReplica implements AutoCloseable {

  static final MethodDescriptor.Marshaller<String> TEXT = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  static final MethodDescriptor<String, String> WHO = MethodDescriptor.<String, String>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName("test.Replica/Who")
      .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();

  static final MethodDescriptor<String, String> WATCH =
      MethodDescriptor.<String, String>newBuilder()
          .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
          .setFullMethodName("test.Replica/Watch")
          .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();

  private static final Context.Key<String> PEER = Context.key("peer");

  final String name;
  private final Server server;
  private final int port;

  TestReplica(String name, CertificateAuthority ca, String bindHost, int port, List<String> sans)
      throws IOException {
    this.name = name;
    KeyPair keys = KeyPairs.ecP256();
    X509Certificate certificate = ca.issue(keys.getPublic(),
        new Identity(ca.trustDomain(), Identity.Kind.CONTROL_PLANE, name), Duration.ofHours(1),
        sans);
    ServerServiceDefinition service = ServerServiceDefinition.builder("test.Replica")
        .addMethod(WHO, ServerCalls.asyncUnaryCall((request, responses) -> {
          responses.onNext(name + "|" + PEER.get());
          responses.onCompleted();
        }))
        .addMethod(WATCH, ServerCalls.asyncServerStreamingCall((request, responses) ->
            responses.onNext(name)))
        .build();
    ServerInterceptor peer = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        String subject;
        try {
          subject = ((X509Certificate) session.getPeerCertificates()[0]).getSubjectX500Principal()
              .getName();
        } catch (SSLPeerUnverifiedException e) {
          subject = "none";
        }
        return Contexts.interceptCall(Context.current().withValue(PEER, subject), call, headers,
            next);
      }
    };
    server = NettyServerBuilder.forAddress(new InetSocketAddress(bindHost, port))
        .sslContext(TlsContexts.server(List.of(certificate), keys.getPrivate(),
            List.of(ca.certificate()), ClientAuth.REQUIRE))
        .permitKeepAliveTime(1, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .addService(ServerInterceptors.intercept(service, peer))
        .build()
        .start();
    this.port = server.getPort();
  }

  int port() {
    return port;
  }

  /** Gone at once, as after kill -9: open streams break, the port refuses connections. */
  void kill() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    kill();
  }

  /** A loopback port nothing listens on (bound, then closed). */
  static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1,
        java.net.InetAddress.getByName("127.0.0.1"))) {
      return socket.getLocalPort();
    }
  }
}
