package io.infraveil.controlplane.reports;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.infraveil.controlplane.auth.Caller;
import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.grpc.SerializedObserver;
import io.infraveil.controlplane.ingest.ConsoleLogs;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.controlplane.store.DeploymentStore;
import io.infraveil.proto.v1.AgentReportServiceGrpc;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HeartbeatResponse;
import io.infraveil.proto.v1.ShipLogsRequest;
import io.infraveil.proto.v1.ShipLogsResponse;
import jakarta.inject.Singleton;

/**
 * gRPC edge of agent heartbeats and console logs. Agents act with their host's identity and
 * report only for their own host. A report for a deployment that is not placed on the host
 * (deleted, or moved away, while its agent was still stopping) is not recorded and is answered
 * with {@code stop}: that is the normal end of an agent's life, not a refusal, so it is no
 * security event and cannot open an authorization incident.
 */
@Singleton
final class AgentReportEndpoint extends AgentReportServiceGrpc.AgentReportServiceImplBase {

  private final ReportIngest ingest;
  private final ConsoleLogs logs;
  private final DesiredStates desiredStates;
  private final DeploymentStore deployments;

  AgentReportEndpoint(ReportIngest ingest, ConsoleLogs logs, DesiredStates desiredStates,
      DeploymentStore deployments) {
    this.deployments = deployments;
    this.ingest = ingest;
    this.logs = logs;
    this.desiredStates = desiredStates;
  }

  @Override
  public StreamObserver<HeartbeatRequest> heartbeat(StreamObserver<HeartbeatResponse> responses) {
    String host = Caller.requireHost();
    SerializedObserver<HeartbeatResponse> out = new SerializedObserver<>(responses);
    return new StreamObserver<>() {
      @Override
      public void onNext(HeartbeatRequest request) {
        Status refusal = refusal(host, request.getHostName());
        if (refusal != null) {
          out.onError(refusal.asRuntimeException());
          return;
        }
        HeartbeatResponse.Builder ack = HeartbeatResponse.newBuilder().setAckedSequence(request.getSequence());
        String stop = stopReason(host, request.getDeployment());
        if (stop != null) {
          out.onNext(ack.setStop(true).setStopReason(stop).build());
          return;
        }
        ingest.agentReported(host, request);
        out.onNext(ack.build());
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        out.onCompleted();
      }
    };
  }

  @Override
  public StreamObserver<ShipLogsRequest> shipLogs(StreamObserver<ShipLogsResponse> responses) {
    String host = Caller.requireHost();
    return new StreamObserver<>() {
      private long accepted;
      private boolean failed;

      @Override
      public void onNext(ShipLogsRequest request) {
        if (failed) {
          return;
        }
        Status refusal = refusal(host, request.getHostName());
        if (refusal != null) {
          failed = true;
          responses.onError(refusal.asRuntimeException());
          return;
        }
        String stop = stopReason(host, request.getDeployment());
        if (stop != null) {
          failed = true; // the answer is given; later batches are not recorded
          responses.onNext(ShipLogsResponse.newBuilder().setAccepted(accepted).setStop(true)
              .setStopReason(stop).build());
          responses.onCompleted();
          return;
        }
        logs.append(host, request.getDeployment(), request.getLinesList(), request.getDroppedLines());
        accepted += request.getLinesCount();
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        if (!failed) {
          responses.onNext(ShipLogsResponse.newBuilder().setAccepted(accepted).build());
          responses.onCompleted();
        }
      }
    };
  }

  private Status refusal(String host, String claimedHost) {
    if (!claimedHost.isEmpty() && !claimedHost.equals(host)) {
      return Status.PERMISSION_DENIED.withDescription("host " + host + " may not report for host "
          + claimedHost + ": agents report only for their own host");
    }
    return null;
  }

  /** Why the agent of {@code deployment} on {@code host} should stop, or null if it is placed there. */
  private String stopReason(String host, String deployment) {
    if (desiredStates.find(host, deployment).isPresent()) {
      return null;
    }
    if (deployments.find(deployment).isEmpty()) {
      return "deployment " + deployment + " was deleted: stop its services and exit; nothing more is"
          + " recorded for it";
    }
    return "deployment " + deployment + " is no longer placed on host " + host + ": stop its services"
        + " and exit; nothing more is recorded for it here";
  }
}
