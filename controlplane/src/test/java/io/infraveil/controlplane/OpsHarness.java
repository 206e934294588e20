package io.infraveil.controlplane;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.Csrs;
import io.infraveil.certs.KeyPairs;
import io.infraveil.certs.Pem;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.proto.v1.AgentReportServiceGrpc;
import io.infraveil.proto.v1.CreateJoinTokenRequest;
import io.infraveil.proto.v1.EnrollRequest;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HeartbeatResponse;
import io.infraveil.proto.v1.LauncherSyncServiceGrpc;
import io.infraveil.proto.v1.LogLine;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.PutDeploymentRequest;
import io.infraveil.proto.v1.ShipLogsRequest;
import io.infraveil.proto.v1.ShipLogsResponse;
import io.infraveil.proto.v1.SyncHello;
import io.infraveil.proto.v1.SyncRequest;
import io.infraveil.proto.v1.SyncResponse;
import io.infraveil.proto.v1.UploadMetadata;
import io.infraveil.proto.v1.UploadPayloadRequest;
import io.infraveil.proto.v1.UploadPayloadResponse;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A real control plane with a test PKI, and clients that act as operators, launchers and
 * agents over real mTLS gRPC, and as browsers over real HTTPS.
 */
final class OpsHarness implements AutoCloseable {

  /** An enrolled host, its credential and the secret it got at enrollment. */
  record EnrolledHost(String name, TestPki.Credential credential, byte[] secret) {}

  final Path dir;
  final TestPki pki;
  final ControlPlane controlPlane;
  private final List<ManagedChannel> channels = new ArrayList<>();

  OpsHarness(Path dir, Map<String, Object> extra) throws Exception {
    this.dir = dir;
    this.pki = new TestPki(dir.resolve("pki"));
    this.controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0, extra);
  }

  /**
   * One replica among several of one installation: the PKI in {@code dir}/pki is shared (made by
   * the first), the data dir is {@code dir}/data-{@code replica}, and {@code extra} names the
   * database they share.
   */
  OpsHarness(Path dir, String replica, Map<String, Object> extra) throws Exception {
    this.dir = dir;
    this.pki = new TestPki(dir.resolve("pki"));
    Map<String, Object> properties = new java.util.HashMap<>(extra);
    properties.put("infraveil.replica-name", replica);
    // Replicas of one installation are given one master key file (the database holds its fingerprint).
    properties.putIfAbsent("infraveil.master-key-file", dir.resolve("master.key").toString());
    this.controlPlane = ControlPlane.start(dir.resolve("data-" + replica), dir.resolve("pki"), 0, properties);
  }

  /** Whether this replica leads (runs incident rules and rollout rounds). */
  boolean leads() {
    return controlPlane.bean(io.infraveil.controlplane.replica.Leadership.class).isLeader();
  }

  /** The replica's name. */
  @Override
  public String toString() {
    return controlPlane.bean(io.infraveil.controlplane.replica.ReplicaName.class).name();
  }

  ManagedChannel channel(TestPki.Credential credential) throws Exception {
    ManagedChannel channel = pki.channel(controlPlane.grpcPort(), credential);
    channels.add(channel);
    return channel;
  }

  OperatorServiceGrpc.OperatorServiceBlockingStub operator() throws Exception {
    return OperatorServiceGrpc.newBlockingStub(channel(pki.operator("alice"))).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  EnrolledHost enroll(String name) throws Exception {
    String token = operator().createJoinToken(CreateJoinTokenRequest.newBuilder().setHostName(name).build())
        .getJoinToken();
    return enrollWith(token, name);
  }

  /** Enrolls {@code name} with a given token and a fresh key pair, as a new machine would. */
  EnrolledHost enrollWith(String token, String name) throws Exception {
    KeyPair pair = KeyPairs.ecP256();
    var response = EnrollmentServiceGrpc.newBlockingStub(channel(null)).enroll(EnrollRequest.newBuilder()
        .setJoinToken(token).setHostName(name).setCsrPem(Csrs.createPem(pair, name)).build());
    return new EnrolledHost(name, new TestPki.Credential(Pem.certificate(response.getCertificatePem()),
        pair.getPrivate()), response.getHostSecret().toByteArray());
  }

  /** Uploads an app with one service {@code api} and deploys it on the hosts; returns the payload hash. */
  String deploy(String name, String version, String... hosts) throws Exception {
    return deploy(name, version, io.infraveil.proto.v1.RolloutStrategy.getDefaultInstance(), hosts);
  }

  /** Deploys with a rollout strategy (unset fields take the defaults). */
  String deploy(String name, String version, io.infraveil.proto.v1.RolloutStrategy strategy, String... hosts)
      throws Exception {
    Path app = Files.createTempDirectory(dir, "app");
    Files.writeString(app.resolve("config.yaml"), """
        services:
          api:
            run:
              start: [ "sleep 1000" ]
            healthcheck:
              cmd: "true"
        """);
    Files.writeString(app.resolve("VERSION"), version + name);
    ByteArrayOutputStream archive = new ByteArrayOutputStream();
    PayloadArchive.pack(app, archive);
    String sha = upload(archive.toByteArray(), version, name).getPayload().getSha256();
    operator().putDeployment(PutDeploymentRequest.newBuilder().setName(name).setPayloadSha256(sha)
        .addAllHosts(List.of(hosts)).setRollout(strategy).build());
    return sha;
  }

  /**
   * Uploads a {@code .tar.gz} as the operator in 1,000-byte chunks; a refusal is thrown as the
   * StatusRuntimeException the server sent.
   */
  UploadPayloadResponse upload(byte[] archive, String version, String sourceName) throws Exception {
    CompletableFuture<UploadPayloadResponse> done = new CompletableFuture<>();
    var requests = OperatorServiceGrpc.newStub(channel(pki.operator("alice"))).uploadPayload(observer(done));
    requests.onNext(UploadPayloadRequest.newBuilder()
        .setMetadata(UploadMetadata.newBuilder().setVersion(version).setSourceName(sourceName)).build());
    for (int offset = 0; offset < archive.length; offset += 1000) {
      requests.onNext(UploadPayloadRequest.newBuilder()
          .setChunk(ByteString.copyFrom(archive, offset, Math.min(1000, archive.length - offset))).build());
    }
    requests.onCompleted();
    try {
      return done.get(20, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  /** Opens a launcher's Sync stream and says hello; responses queue up. */
  StreamObserver<SyncRequest> sync(EnrolledHost host, LinkedBlockingQueue<Object> received) throws Exception {
    StreamObserver<SyncRequest> requests = openSync(host.credential(), received);
    requests.onNext(SyncRequest.newBuilder().setHello(SyncHello.newBuilder().setHostName(host.name())).build());
    return requests;
  }

  /** Opens a Sync stream with {@code credential} and sends nothing; responses, errors and completion queue up. */
  StreamObserver<SyncRequest> openSync(TestPki.Credential credential, LinkedBlockingQueue<Object> received)
      throws Exception {
    return LauncherSyncServiceGrpc.newStub(channel(credential)).sync(new StreamObserver<>() {
      @Override
      public void onNext(SyncResponse value) {
        received.add(value);
      }

      @Override
      public void onError(Throwable t) {
        received.add(t);
      }

      @Override
      public void onCompleted() {
        received.add("completed");
      }
    });
  }

  /** Sends one heartbeat as the host's agent and waits for its ack. */
  void heartbeat(EnrolledHost host, HeartbeatRequest heartbeat) throws Exception {
    CompletableFuture<HeartbeatResponse> acked = new CompletableFuture<>();
    var requests = AgentReportServiceGrpc.newStub(channel(host.credential())).heartbeat(observer(acked));
    requests.onNext(heartbeat);
    acked.get(20, TimeUnit.SECONDS);
    requests.onCompleted();
  }

  /** Ships console lines as the host's agent. */
  void shipLogs(EnrolledHost host, String deployment, List<LogLine> lines) throws Exception {
    CompletableFuture<ShipLogsResponse> done = new CompletableFuture<>();
    var requests = AgentReportServiceGrpc.newStub(channel(host.credential())).shipLogs(observer(done));
    requests.onNext(ShipLogsRequest.newBuilder().setHostName(host.name()).setDeployment(deployment)
        .addAllLines(lines).build());
    requests.onCompleted();
    done.get(20, TimeUnit.SECONDS);
  }

  /** An HTTPS client trusting the test CA, presenting {@code credential} when given. */
  HttpClient http(TestPki.Credential credential) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", pki.ca.certificate());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (credential != null) {
      char[] password = "test".toCharArray();
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("me", credential.key(), password,
          new java.security.cert.X509Certificate[] {credential.certificate()});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, password);
    }
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
  }

  HttpResponse<String> get(HttpClient client, String path, String bearer) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(
        URI.create("https://localhost:" + controlPlane.httpPort() + path)).timeout(Duration.ofSeconds(20));
    if (bearer != null) {
      request.header("Authorization", "Bearer " + bearer);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  static <T> StreamObserver<T> observer(CompletableFuture<T> done) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        done.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    };
  }

  @Override
  public void close() throws Exception {
    for (ManagedChannel channel : channels) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    controlPlane.close();
  }
}
