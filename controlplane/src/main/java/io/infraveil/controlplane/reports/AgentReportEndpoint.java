package io.infraveil.controlplane.reports;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.infraveil.controlplane.auth.Caller;
import io.infraveil.controlplane.deploy.DesiredStates;
import io.infraveil.controlplane.grpc.SerializedObserver;
import io.infraveil.controlplane.ingest.ConsoleLogs;
import io.infraveil.controlplane.ingest.ReportIngest;
import io.infraveil.proto.v1.AgentReportServiceGrpc;
import io.infraveil.proto.v1.HeartbeatRequest;
import io.infraveil.proto.v1.HeartbeatResponse;
import io.infraveil.proto.v1.ShipLogsRequest;
import io.infraveil.proto.v1.ShipLogsResponse;
import jakarta.inject.Singleton;

/**
 * gRPC edge of agent heartbeats and console logs. Agents act with their host's identity and
 * report only for deployments placed on that host.
 */
@Singleton
final class AgentReportEndpoint extends AgentReportServiceGrpc.AgentReportServiceImplBase {

  private final ReportIngest ingest;
  private final ConsoleLogs logs;
  private final DesiredStates desiredStates;

  AgentReportEndpoint(ReportIngest ingest, ConsoleLogs logs, DesiredStates desiredStates) {
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
        Status refusal = refusal(host, request.getHostName(), request.getDeployment());
        if (refusal != null) {
          out.onError(refusal.asRuntimeException());
          return;
        }
        ingest.agentReported(host, request);
        out.onNext(HeartbeatResponse.newBuilder().setAckedSequence(request.getSequence()).build());
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
        Status refusal = refusal(host, request.getHostName(), request.getDeployment());
        if (refusal != null) {
          failed = true;
          responses.onError(refusal.asRuntimeException());
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

  private Status refusal(String host, String claimedHost, String deployment) {
    if (!claimedHost.isEmpty() && !claimedHost.equals(host)) {
      return Status.PERMISSION_DENIED.withDescription("host " + host + " may not report for host "
          + claimedHost + ": agents report only for their own host");
    }
    if (desiredStates.find(host, deployment).isEmpty()) {
      return Status.PERMISSION_DENIED.withDescription("host " + host + " may not report for deployment "
          + deployment + ": it is not placed on " + host);
    }
    return null;
  }
}
