package io.infraveil.e2e;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Grpc;
import io.grpc.HandlerRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.infraveil.certs.Identity;
import io.infraveil.certs.Pem;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.certs.TlsContexts;
import io.infraveil.host.grpc.ControlPlaneChannels;
import io.infraveil.host.grpc.HostIdentityFiles;
import io.infraveil.proto.v1.DesiredState;
import io.infraveil.proto.v1.FetchHeader;
import io.infraveil.proto.v1.FetchRequest;
import io.infraveil.proto.v1.FetchResponse;
import io.infraveil.proto.v1.PayloadChunk;
import io.infraveil.proto.v1.LauncherSyncServiceGrpc;
import io.infraveil.proto.v1.PayloadServiceGrpc;
import io.infraveil.proto.v1.SyncResponse;
import io.netty.handler.ssl.ClientAuth;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * A man in the middle between one host (launcher and agents) and the control plane: a gRPC
 * server with real mTLS (a server certificate from the installation's CA, SAN localhost and
 * 127.0.0.1) that forwards every call, as bytes, to the real control plane. Calls made with a
 * client certificate are forwarded with the host's own certificate, read from its data dir
 * once it has enrolled; calls without one (enrollment) go without. It can rewrite
 * {@code PayloadService/Fetch} responses ({@link #tamper}) and cut one Fetch stream after a
 * number of ciphertext bytes ({@link #cutOnceAfter}), and it records every Fetch request. Like a
 * compromised control plane, it can also rewrite the desired states pushed over Sync
 * ({@link #rewriteDesired}), and it records every desired state it forwarded.
 */
public final class ControlPlaneProxy implements AutoCloseable {

  /** How Fetch responses are rewritten. */
  public enum Tamper {
    /** Forwarded unchanged. */
    NONE,
    /** One byte of the first chunk's ciphertext flipped. */
    FLIP_CIPHERTEXT_BYTE,
    /** The header's payload sha256 replaced by another hash. */
    WRONG_SHA256,
    /** One byte of the header's HMAC flipped. */
    WRONG_HMAC,
  }

  private static final String FETCH = PayloadServiceGrpc.getFetchMethod().getFullMethodName();
  private static final String SYNC = LauncherSyncServiceGrpc.getSyncMethod().getFullMethodName();

  private final Server server;
  private final String upstream;
  private final Path hostDataDir;
  private final ManagedChannel anonymous;
  /** Created on the first call that carries a client certificate (the host has enrolled). */
  private volatile ManagedChannel asHost;
  private volatile Tamper tamper = Tamper.NONE;
  private final AtomicLong cutAfter = new AtomicLong(-1);
  private final AtomicLong cuts = new AtomicLong();
  private final List<FetchRequest> fetches = new CopyOnWriteArrayList<>();
  private final List<DesiredState> desiredStates = new CopyOnWriteArrayList<>();
  private volatile UnaryOperator<DesiredState> desiredRewrite;

  private ControlPlaneProxy(Server server, String upstream, Path hostDataDir,
      ManagedChannel anonymous) {
    this.server = server;
    this.upstream = upstream;
    this.hostDataDir = hostDataDir;
    this.anonymous = anonymous;
  }

  /**
   * Starts the proxy on a free loopback port for the host whose data dir is {@code hostDataDir},
   * forwarding to {@code upstream} (HOST:PORT of the control plane).
   */
  public static ControlPlaneProxy start(PkiDirectory pki, String upstream, Path hostDataDir)
      throws IOException {
    PkiDirectory.Issued cert = pki.issue(Identity.Kind.CONTROL_PLANE, "e2e-proxy",
        List.of("localhost", "127.0.0.1"), Duration.ofDays(1));
    var tls = TlsContexts.server(Pem.readCertificates(cert.certFile()),
        Pem.readPrivateKey(cert.keyFile()), Pem.readCertificates(pki.caCertFile()),
        ClientAuth.OPTIONAL);
    ManagedChannel anonymous = ControlPlaneChannels.anonymous(upstream, pki.caCertFile(),
        ControlPlaneChannels.Settings.DEFAULTS);
    ControlPlaneProxy[] self = new ControlPlaneProxy[1];
    Server server = NettyServerBuilder
        .forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .sslContext(tls)
        .permitKeepAliveTime(1, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .maxInboundMessageSize(16 << 20)
        .fallbackHandlerRegistry(new HandlerRegistry() {
          @Override
          public ServerMethodDefinition<?, ?> lookupMethod(String method, String authority) {
            MethodDescriptor<byte[], byte[]> descriptor = MethodDescriptor
                .newBuilder(BYTES, BYTES)
                .setFullMethodName(method)
                .setType(MethodDescriptor.MethodType.UNKNOWN)
                .build();
            return ServerMethodDefinition.create(descriptor, (call, headers) ->
                self[0].forward(call, headers));
          }
        })
        .build()
        .start();
    self[0] = new ControlPlaneProxy(server, upstream, hostDataDir, anonymous);
    return self[0];
  }

  /** HOST:PORT for a launcher: {@code 127.0.0.1:PORT}. */
  public String endpoint() {
    return "127.0.0.1:" + server.getPort();
  }

  public void tamper(Tamper mode) {
    this.tamper = mode;
  }

  /** The next Fetch stream that has passed {@code bytes} of ciphertext is cut (once). */
  public void cutOnceAfter(long bytes) {
    cutAfter.set(bytes);
  }

  /** Fetch streams cut so far. */
  public long cuts() {
    return cuts.get();
  }

  /**
   * Rewrites every desired state the control plane pushes from now on (null: forward them as
   * they are), as a control plane in an attacker's hands could.
   */
  public void rewriteDesired(UnaryOperator<DesiredState> rewrite) {
    this.desiredRewrite = rewrite;
  }

  /** Every desired state forwarded to the host, in order, after any rewrite. */
  public List<DesiredState> desiredStates() {
    return List.copyOf(desiredStates);
  }

  /** Every Fetch request forwarded, in order. */
  public List<FetchRequest> fetches() {
    return List.copyOf(fetches);
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow();
    anonymous.shutdownNow();
    if (asHost != null) {
      asHost.shutdownNow();
    }
    server.awaitTermination(5, TimeUnit.SECONDS);
  }

  // ------------------------------------------------------------------ forwarding

  private ServerCall.Listener<byte[]> forward(ServerCall<byte[], byte[]> serverCall,
      Metadata headers) {
    ManagedChannel channel;
    try {
      channel = hasClientCertificate(serverCall) ? hostChannel() : anonymous;
    } catch (IOException e) {
      serverCall.close(Status.UNAVAILABLE.withDescription("proxy: " + e), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    ClientCall<byte[], byte[]> clientCall = channel.newCall(serverCall.getMethodDescriptor(),
        CallOptions.DEFAULT);
    String method = serverCall.getMethodDescriptor().getFullMethodName();
    CallProxy proxy = new CallProxy(serverCall, clientCall, method.equals(FETCH),
        method.equals(SYNC));
    clientCall.start(proxy.responses, headers);
    serverCall.request(1);
    clientCall.request(1);
    return proxy.requests;
  }

  private static boolean hasClientCertificate(ServerCall<?, ?> call) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return false;
    }
    try {
      return session.getPeerCertificates().length > 0;
    } catch (SSLPeerUnverifiedException e) {
      return false;
    }
  }

  private synchronized ManagedChannel hostChannel() throws IOException {
    if (asHost == null) {
      asHost = ControlPlaneChannels.mutualTls(upstream, HostIdentityFiles.inDataDir(hostDataDir),
          ControlPlaneChannels.Settings.DEFAULTS);
    }
    return asHost;
  }

  /** One proxied call; flow control as in grpc-java's GrpcProxy example. */
  private final class CallProxy {
    final ServerCall<byte[], byte[]> serverCall;
    final ClientCall<byte[], byte[]> clientCall;
    final boolean fetch;
    final boolean sync;
    final Requests requests = new Requests();
    final Responses responses = new Responses();
    long forwardedBytes;
    boolean cut;

    CallProxy(ServerCall<byte[], byte[]> serverCall, ClientCall<byte[], byte[]> clientCall,
        boolean fetch, boolean sync) {
      this.serverCall = serverCall;
      this.clientCall = clientCall;
      this.fetch = fetch;
      this.sync = sync;
    }

    final class Requests extends ServerCall.Listener<byte[]> {
      private boolean needToRequest;

      @Override
      public void onCancel() {
        clientCall.cancel("the host cancelled", null);
      }

      @Override
      public void onHalfClose() {
        clientCall.halfClose();
      }

      @Override
      public void onMessage(byte[] message) {
        if (fetch) {
          try {
            fetches.add(FetchRequest.parseFrom(message));
          } catch (InvalidProtocolBufferException e) {
            throw new UncheckedIOException(e);
          }
        }
        clientCall.sendMessage(message);
        synchronized (this) {
          if (clientCall.isReady()) {
            serverCall.request(1);
          } else {
            needToRequest = true;
          }
        }
      }

      @Override
      public void onReady() {
        responses.onServerReady();
      }

      synchronized void onClientReady() {
        if (needToRequest) {
          serverCall.request(1);
          needToRequest = false;
        }
      }
    }

    final class Responses extends ClientCall.Listener<byte[]> {
      private boolean needToRequest;

      @Override
      public void onClose(Status status, Metadata trailers) {
        synchronized (CallProxy.this) {
          if (cut) {
            return;
          }
        }
        serverCall.close(status, trailers);
      }

      @Override
      public void onHeaders(Metadata headers) {
        serverCall.sendHeaders(headers);
      }

      @Override
      public void onMessage(byte[] message) {
        byte[] out = message;
        if (fetch) {
          out = rewriteFetch(message);
          if (out == null) {
            return; // cut
          }
        }
        if (sync) {
          out = rewriteSync(message);
        }
        serverCall.sendMessage(out);
        synchronized (this) {
          if (serverCall.isReady()) {
            clientCall.request(1);
          } else {
            needToRequest = true;
          }
        }
      }

      @Override
      public void onReady() {
        requests.onClientReady();
      }

      synchronized void onServerReady() {
        if (needToRequest) {
          clientCall.request(1);
          needToRequest = false;
        }
      }
    }

    /** A desired state, rewritten when asked to and recorded; other Sync messages as they are. */
    private byte[] rewriteSync(byte[] message) {
      SyncResponse response;
      try {
        response = SyncResponse.parseFrom(message);
      } catch (InvalidProtocolBufferException e) {
        throw new UncheckedIOException(e);
      }
      if (!response.hasDesired()) {
        return message;
      }
      UnaryOperator<DesiredState> rewrite = desiredRewrite;
      DesiredState desired = rewrite == null ? response.getDesired()
          : rewrite.apply(response.getDesired());
      desiredStates.add(desired);
      return rewrite == null ? message
          : response.toBuilder().setDesired(desired).build().toByteArray();
    }

    /** The message to send on, or null when this stream was just cut. */
    private byte[] rewriteFetch(byte[] message) {
      FetchResponse response;
      try {
        response = FetchResponse.parseFrom(message);
      } catch (InvalidProtocolBufferException e) {
        throw new UncheckedIOException(e);
      }
      if (response.hasHeader()) {
        FetchHeader header = response.getHeader();
        switch (tamper) {
          case WRONG_SHA256 -> header = header.toBuilder().setPayload(header.getPayload().toBuilder()
              .setSha256(otherHash(header.getPayload().getSha256()))).build();
          case WRONG_HMAC -> header = header.toBuilder().setHmac(flipOne(header.getHmac())).build();
          default -> { }
        }
        return FetchResponse.newBuilder().setHeader(header).build().toByteArray();
      }
      PayloadChunk chunk = response.getChunk();
      long limit = cutAfter.get();
      if (limit >= 0 && forwardedBytes + chunk.getData().size() > limit
          && cutAfter.compareAndSet(limit, -1)) {
        synchronized (CallProxy.this) {
          cut = true;
        }
        cuts.incrementAndGet();
        clientCall.cancel("cut by the test", null);
        serverCall.close(Status.UNAVAILABLE.withDescription("connection cut by the test after "
            + forwardedBytes + " bytes"), new Metadata());
        return null;
      }
      forwardedBytes += chunk.getData().size();
      if (tamper == Tamper.FLIP_CIPHERTEXT_BYTE && chunk.getOffset() == 0) {
        chunk = chunk.toBuilder().setData(flipOne(chunk.getData())).build();
        return FetchResponse.newBuilder().setChunk(chunk).build().toByteArray();
      }
      return message;
    }
  }

  private static ByteString flipOne(ByteString bytes) {
    byte[] copy = bytes.toByteArray();
    copy[copy.length / 2] ^= 0x01;
    return ByteString.copyFrom(copy);
  }

  private static String otherHash(String sha256) {
    char last = sha256.charAt(sha256.length() - 1);
    return sha256.substring(0, sha256.length() - 1) + (last == '0' ? '1' : '0');
  }

  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };
}
