package io.infraveil.controlplane.sync;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.infraveil.controlplane.auth.Caller;
import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.grpc.SerializedObserver;
import io.infraveil.controlplane.hosts.HostLiveness;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.store.HostStore;
import io.infraveil.proto.v1.LauncherSyncServiceGrpc;
import io.infraveil.proto.v1.SyncRequest;
import io.infraveil.proto.v1.SyncAccepted;
import io.infraveil.proto.v1.SyncResponse;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * gRPC edge of the launcher's Sync stream. The host is whoever the certificate says; a hello
 * naming another host is refused. Desired state goes out whenever it is newer than what the
 * launcher holds; acks and reports come back.
 */
@Singleton
final class SyncEndpoint extends LauncherSyncServiceGrpc.LauncherSyncServiceImplBase {

  private static final Logger LOG = LoggerFactory.getLogger(SyncEndpoint.class);

  private final SyncSessions sessions;
  private final DesiredStates desiredStates;
  private final HostStore hosts;
  private final HostLiveness liveness;
  private final ReportIngest ingest;
  private final AckBatches acks;

  SyncEndpoint(SyncSessions sessions, DesiredStates desiredStates, HostStore hosts, HostLiveness liveness,
      ReportIngest ingest, AckBatches acks) {
    this.acks = acks;
    this.sessions = sessions;
    this.desiredStates = desiredStates;
    this.hosts = hosts;
    this.liveness = liveness;
    this.ingest = ingest;
  }

  @Override
  public StreamObserver<SyncRequest> sync(StreamObserver<SyncResponse> responses) {
    String host = Caller.requireHost();
    SerializedObserver<SyncResponse> out = new SerializedObserver<>(responses);
    var record = hosts.find(host);
    if (record.isEmpty() || record.get().revoked()) {
      out.onError(Status.PERMISSION_DENIED.withDescription("host " + host + " may not sync: it is "
          + (record.isEmpty() ? "not enrolled" : "revoked") + "; enroll it with a join token").asRuntimeException());
      return new StreamObserver<>() {
        @Override
        public void onNext(SyncRequest ignored) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      };
    }
    return new StreamObserver<>() {
      private boolean greeted;

      @Override
      public void onNext(SyncRequest request) {
        switch (request.getMessageCase()) {
          case HELLO -> {
            if (!request.getHello().getHostName().equals(host)) {
              out.onError(Status.PERMISSION_DENIED.withDescription("host " + host + " may not sync as "
                  + request.getHello().getHostName() + ": a host syncs only as itself").asRuntimeException());
              return;
            }
            greeted = true;
            // From the database, not this replica's memory: another replica may have written it.
            long held = request.getHello().getHeldRevision();
            DesiredStates.Reloaded reloaded = desiredStates.reloadWithStoredRevision(host);
            // Before register: nothing else writes to this stream yet. The launcher resets its
            // reconnect backoff only on an answer, and a current launcher gets no desired state.
            out.onNext(SyncResponse.newBuilder().setAccepted(SyncAccepted.newBuilder()
                .setRevision(reloaded.held().getRevision())).build());
            sessions.register(host, out, request.getHello().getHeldRevision());
            liveness.streamOpened(host);
            LOG.info("sync_open host={} held_revision={}", host, request.getHello().getHeldRevision());
            // Through the sessions: a push from the change feed may race this one, and each
            // revision goes out once, in growing order.
            // After register, from memory: a state stored meanwhile is held here by now or pushed
            // by whoever stores it. Only a launcher ahead of the database costs a transaction.
            sessions.pushIfNewer(host, desiredStates.aboveHeld(host, held, reloaded));
          }
          case ACK -> {
            requireGreeted();
            acks.acked(host, request.getAck().getRevision());
          }
          case REPORT -> {
            requireGreeted();
            liveness.reported(host, request.getReport());
            ingest.hostReported(host, request.getReport());
          }
          default -> out.onError(Status.INVALID_ARGUMENT
              .withDescription("empty SyncRequest from host " + host).asRuntimeException());
        }
      }

      private void requireGreeted() {
        if (!greeted) {
          throw Status.FAILED_PRECONDITION.withDescription("host " + host
              + " must send SyncHello first on a Sync stream").asRuntimeException();
        }
      }

      @Override
      public void onError(Throwable t) {
        closed();
      }

      @Override
      public void onCompleted() {
        closed();
        out.onCompleted();
      }

      private void closed() {
        sessions.unregister(host, out);
        liveness.streamClosed(host);
        LOG.info("sync_closed host={}", host);
      }
    };
  }
}
