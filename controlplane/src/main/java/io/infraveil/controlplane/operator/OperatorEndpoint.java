package io.infraveil.controlplane.operator;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.Identity;
import io.infraveil.controlplane.auth.Caller;
import io.infraveil.controlplane.auth.SecurityEvents;
import io.infraveil.controlplane.enroll.JoinTokens;
import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.hosts.HostRevocation;
import io.infraveil.controlplane.hosts.HostViews;
import io.infraveil.proto.v1.CreateJoinTokenRequest;
import io.infraveil.proto.v1.CreateJoinTokenResponse;
import io.infraveil.proto.v1.ListHostsRequest;
import io.infraveil.proto.v1.ListHostsResponse;
import io.infraveil.proto.v1.ListSecurityEventsRequest;
import io.infraveil.proto.v1.ListSecurityEventsResponse;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.RevokeHostRequest;
import io.infraveil.proto.v1.RevokeHostResponse;
import jakarta.inject.Singleton;
import io.grpc.StatusRuntimeException;
import io.infraveil.controlplane.deploy.DeploymentPlans;
import io.infraveil.controlplane.deploy.DeploymentViews;
import io.infraveil.proto.v1.PlanDeploymentRequest;
import io.infraveil.proto.v1.PlanDeploymentResponse;
import io.infraveil.controlplane.deploy.Deployments;
import io.infraveil.controlplane.deploy.PlacementReview;
import io.infraveil.controlplane.ingest.ConsoleLogs;
import io.infraveil.controlplane.payloads.PayloadIntake;
import io.infraveil.proto.v1.DeleteDeploymentRequest;
import io.infraveil.proto.v1.DeleteDeploymentResponse;
import io.infraveil.proto.v1.GetStatusRequest;
import io.infraveil.proto.v1.GetStatusResponse;
import io.infraveil.proto.v1.ListDeploymentsRequest;
import io.infraveil.proto.v1.ListDeploymentsResponse;
import io.infraveil.proto.v1.PauseDeploymentRequest;
import io.infraveil.proto.v1.PauseDeploymentResponse;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.PutDeploymentRequest;
import io.infraveil.proto.v1.PutDeploymentResponse;
import io.infraveil.proto.v1.RestartDeploymentRequest;
import io.infraveil.proto.v1.RestartDeploymentResponse;
import io.infraveil.proto.v1.ResumeDeploymentRequest;
import io.infraveil.proto.v1.ResumeDeploymentResponse;
import io.infraveil.proto.v1.RollbackDeploymentRequest;
import io.infraveil.proto.v1.RollbackDeploymentResponse;
import io.infraveil.proto.v1.TailLogsRequest;
import io.infraveil.proto.v1.TailLogsResponse;
import io.infraveil.proto.v1.UploadPayloadRequest;
import io.infraveil.proto.v1.UploadPayloadResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.infraveil.controlplane.auth.ApiTokens;
import io.infraveil.controlplane.grpc.SerializedObserver;
import io.infraveil.controlplane.ops.EvidenceTexts;
import io.infraveil.controlplane.ops.OperationsViews;
import io.infraveil.controlplane.ops.WatchHub;
import io.infraveil.controlplane.pipeline.PipelineTelemetry;
import io.infraveil.proto.v1.CreateApiTokenRequest;
import io.infraveil.proto.v1.CreateApiTokenResponse;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.ListIncidentsRequest;
import io.infraveil.proto.v1.ListIncidentsResponse;
import io.infraveil.proto.v1.WatchRequest;
import io.infraveil.proto.v1.WatchResponse;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;

/**
 * gRPC edge of the operator's commands. Only operators get here (the authorization
 * interceptor admits no one else); each RPC hands off to a plain class.
 */
@Singleton
final class OperatorEndpoint extends OperatorServiceGrpc.OperatorServiceImplBase {

  private final JoinTokens joinTokens;
  private final HostRevocation revocation;
  private final HostViews hostViews;
  private final SecurityEvents securityEvents;
  private final PayloadIntake intake;
  private final Deployments deployments;
  private final DeploymentViews deploymentViews;
  private final ConsoleLogs consoleLogs;
  private final Clock clock;
  private final OperationsViews operations;
  private final WatchHub watchHub;
  private final PipelineTelemetry pipeline;
  private final ApiTokens apiTokens;
  private final DeploymentPlans plans;

  OperatorEndpoint(JoinTokens joinTokens, HostRevocation revocation, HostViews hostViews,
      SecurityEvents securityEvents, PayloadIntake intake, Deployments deployments,
      DeploymentViews deploymentViews, ConsoleLogs consoleLogs, Clock clock, OperationsViews operations,
      WatchHub watchHub, PipelineTelemetry pipeline, ApiTokens apiTokens, DeploymentPlans plans) {
    this.plans = plans;
    this.operations = operations;
    this.watchHub = watchHub;
    this.pipeline = pipeline;
    this.apiTokens = apiTokens;
    this.joinTokens = joinTokens;
    this.revocation = revocation;
    this.hostViews = hostViews;
    this.securityEvents = securityEvents;
    this.intake = intake;
    this.deployments = deployments;
    this.deploymentViews = deploymentViews;
    this.consoleLogs = consoleLogs;
    this.clock = clock;
  }

  @Override
  public StreamObserver<UploadPayloadRequest> uploadPayload(StreamObserver<UploadPayloadResponse> responses) {
    String operator = Caller.operatorUri();
    return new StreamObserver<>() {
      private PayloadIntake.Upload upload;
      private boolean failed;
      /** When the stream began, for the deploy's "upload" phase. */
      private final java.time.Instant began = pipeline.now();

      @Override
      public void onNext(UploadPayloadRequest request) {
        if (failed) {
          return;
        }
        try {
          switch (request.getMessageCase()) {
            case METADATA -> {
              if (upload != null) {
                throw Status.INVALID_ARGUMENT.withDescription("metadata sent twice in one upload").asRuntimeException();
              }
              upload = intake.begin(request.getMetadata().getVersion(), request.getMetadata().getSourceName(),
                  operator);
            }
            case CHUNK -> {
              if (upload == null) {
                throw Status.INVALID_ARGUMENT.withDescription("send UploadMetadata before the first chunk")
                    .asRuntimeException();
              }
              upload.write(request.getChunk().toByteArray());
            }
            default -> throw Status.INVALID_ARGUMENT.withDescription("empty UploadPayloadRequest").asRuntimeException();
          }
        } catch (IOException e) {
          fail(Status.UNAVAILABLE.withDescription("cannot spool the upload: " + e.getMessage()));
        } catch (StatusRuntimeException e) {
          fail(e.getStatus());
        }
      }

      @Override
      public void onError(Throwable t) {
        if (upload != null) {
          upload.abort();
        }
      }

      @Override
      public void onCompleted() {
        if (failed) {
          return;
        }
        if (upload == null) {
          fail(Status.INVALID_ARGUMENT.withDescription("the upload carried no metadata and no bytes"));
          return;
        }
        try {
          java.time.Instant received = pipeline.now();
          var stored = upload.finish();
          pipeline.uploaded(stored.payload().sha256(), stored.payload().versionLabel(), operator, began,
              received);
          responses.onNext(UploadPayloadResponse.newBuilder()
              .setPayload(PayloadRef.newBuilder()
                  .setSha256(stored.payload().sha256())
                  .setSize(stored.payload().plaintextSize())
                  .setVersion(stored.payload().versionLabel()))
              .addAllServices(stored.instancesByService().keySet())
              .setAlreadyStored(stored.alreadyStored())
              .build());
          responses.onCompleted();
        } catch (IOException e) {
          fail(Status.UNAVAILABLE.withDescription("cannot store the payload: " + e.getMessage()));
        } catch (StatusRuntimeException e) {
          fail(e.getStatus());
        }
      }

      private void fail(Status status) {
        failed = true;
        if (upload != null) {
          upload.abort();
        }
        responses.onError(status.asRuntimeException());
      }
    };
  }

  @Override
  public void putDeployment(PutDeploymentRequest request, StreamObserver<PutDeploymentResponse> responses) {
    var record = deployments.put(new Deployments.PutRequest(request.getName(), request.getPayloadSha256(),
        request.getHostsList(), request.getLabelsMap(), request.getRetryMarkedBad(), request.getSignaturesList(),
        request.getSequence(), request.getRollout(), Caller.operatorUri()));
    Deployment view = deploymentViews.stored(record);
    announce(view.getName(), "deployment " + view.getName() + " now runs " + EvidenceTexts.payload(view.getPayload())
        + " on [" + PlacementReview.shortList(view.getPlacedHostsList()) + "] (generation " + view.getGeneration()
        + ")");
    responses.onNext(PutDeploymentResponse.newBuilder().setDeployment(view)
        .addAllWarnings(view.getPlacementWarningsList()).build());
    responses.onCompleted();
  }

  @Override
  public void listDeployments(ListDeploymentsRequest request, StreamObserver<ListDeploymentsResponse> responses) {
    responses.onNext(ListDeploymentsResponse.newBuilder().addAllDeployments(deploymentViews.all()).build());
    responses.onCompleted();
  }

  @Override
  public void deleteDeployment(DeleteDeploymentRequest request, StreamObserver<DeleteDeploymentResponse> responses) {
    var stoppedOn = deployments.delete(request.getName());
    announce(request.getName(), "deployment " + request.getName() + " deleted; stopped on " + stoppedOn);
    responses.onNext(DeleteDeploymentResponse.newBuilder().addAllStoppedOn(stoppedOn).build());
    responses.onCompleted();
  }

  @Override
  public void rollbackDeployment(RollbackDeploymentRequest request,
      StreamObserver<RollbackDeploymentResponse> responses) {
    deployments.rollback(request.getName(), request.getTo(), request.getForce(), Caller.operatorUri());
    announce(request.getName(), "deployment " + request.getName() + " rolled back by " + Caller.operatorUri());
    responses.onNext(RollbackDeploymentResponse.newBuilder()
        .setDeployment(deploymentViews.one(request.getName())).build());
    responses.onCompleted();
  }

  @Override
  public void pauseDeployment(PauseDeploymentRequest request, StreamObserver<PauseDeploymentResponse> responses) {
    deployments.pause(request.getName());
    announce(request.getName(), "deployment " + request.getName() + " paused by " + Caller.operatorUri());
    responses.onNext(PauseDeploymentResponse.newBuilder().setDeployment(deploymentViews.one(request.getName())).build());
    responses.onCompleted();
  }

  @Override
  public void resumeDeployment(ResumeDeploymentRequest request, StreamObserver<ResumeDeploymentResponse> responses) {
    deployments.resume(request.getName());
    announce(request.getName(), "deployment " + request.getName() + " resumed by " + Caller.operatorUri());
    responses.onNext(ResumeDeploymentResponse.newBuilder().setDeployment(deploymentViews.one(request.getName())).build());
    responses.onCompleted();
  }

  @Override
  public void restartDeployment(RestartDeploymentRequest request,
      StreamObserver<RestartDeploymentResponse> responses) {
    deployments.restart(request.getName());
    announce(request.getName(), "deployment " + request.getName() + " restarted by " + Caller.operatorUri());
    responses.onNext(RestartDeploymentResponse.newBuilder().setDeployment(deploymentViews.one(request.getName())).build());
    responses.onCompleted();
  }

  @Override
  public void getStatus(GetStatusRequest request, StreamObserver<GetStatusResponse> responses) {
    responses.onNext(operations.operations());
    responses.onCompleted();
  }

  @Override
  public void listIncidents(ListIncidentsRequest request, StreamObserver<ListIncidentsResponse> responses) {
    responses.onNext(ListIncidentsResponse.newBuilder()
        .addAllIncidents(operations.incidents(request.getOpenOnly())).build());
    responses.onCompleted();
  }

  @Override
  public void watch(WatchRequest request, StreamObserver<WatchResponse> responses) {
    var out = (ServerCallStreamObserver<WatchResponse>) responses;
    var serialized = new SerializedObserver<>(out);
    String deployment = request.getDeployment();
    Runnable unsubscribe = watchHub.subscribe(event -> {
      if (deployment.isEmpty() || deployment.equals(event.getDeployment())) {
        serialized.onNext(event);
      }
    });
    out.setOnCancelHandler(unsubscribe::run);
  }

  @Override
  public void createApiToken(CreateApiTokenRequest request, StreamObserver<CreateApiTokenResponse> responses) {
    if (!Identity.isValidName(request.getName())) {
      throw Status.INVALID_ARGUMENT.withDescription("token name \"" + request.getName()
          + "\" is invalid: use lower-case letters, digits, dots and dashes").asRuntimeException();
    }
    Duration ttl = Duration.ofSeconds(request.getTtlSeconds());
    if (ttl.isNegative() || ttl.compareTo(ApiTokens.MAX_TTL) > 0) {
      throw Status.INVALID_ARGUMENT.withDescription("ttl_seconds must be between 0 (one day) and "
          + ApiTokens.MAX_TTL.toSeconds() + ", got " + request.getTtlSeconds()).asRuntimeException();
    }
    var created = apiTokens.create(request.getName(), ttl, Caller.operatorUri());
    responses.onNext(CreateApiTokenResponse.newBuilder()
        .setToken(created.token())
        .setExpiresAt(ProtoTime.timestamp(created.expiresAt()))
        .build());
    responses.onCompleted();
  }

  @Override
  public void tailLogs(TailLogsRequest request, StreamObserver<TailLogsResponse> responses) {
    deployments.require(request.getDeployment());
    int tail = request.getTail() <= 0 ? 100 : Math.min(request.getTail(), 5_000);
    for (var line : consoleLogs.tail(request.getDeployment(), request.getService(), tail)) {
      responses.onNext(TailLogsResponse.newBuilder().setHostName(line.host()).addLines(line.line()).build());
    }
    if (!request.getFollow()) {
      responses.onCompleted();
      return;
    }
    var out = (io.grpc.stub.ServerCallStreamObserver<TailLogsResponse>) responses;
    var serialized = new io.infraveil.controlplane.grpc.SerializedObserver<>(out);
    Runnable unfollow = consoleLogs.follow(line -> {
      if (line.deployment().equals(request.getDeployment())
          && (request.getService().isEmpty() || line.line().getService().equals(request.getService()))) {
        serialized.onNext(TailLogsResponse.newBuilder().setHostName(line.host()).addLines(line.line()).build());
      }
    });
    out.setOnCancelHandler(unfollow::run);
  }

  @Override
  public void listHosts(ListHostsRequest request, StreamObserver<ListHostsResponse> responses) {
    responses.onNext(ListHostsResponse.newBuilder().addAllHosts(hostViews.all()).build());
    responses.onCompleted();
  }

  @Override
  public void createJoinToken(CreateJoinTokenRequest request,
      StreamObserver<CreateJoinTokenResponse> responses) {
    if (!Identity.isValidName(request.getHostName())) {
      throw Status.INVALID_ARGUMENT.withDescription("host_name \"" + request.getHostName()
          + "\" is invalid: use lower-case letters, digits, dots and dashes").asRuntimeException();
    }
    if (request.getTtlSeconds() < 0) {
      throw Status.INVALID_ARGUMENT.withDescription("ttl_seconds must not be negative, got "
          + request.getTtlSeconds()).asRuntimeException();
    }
    var created = joinTokens.create(request.getHostName(), Duration.ofSeconds(request.getTtlSeconds()),
        request.getLabelsMap(), Caller.operatorUri(), request.getReplace());
    responses.onNext(CreateJoinTokenResponse.newBuilder()
        .setJoinToken(created.token())
        .setExpiresAt(ProtoTime.timestamp(created.expiresAt()))
        .setSupersededTokens(created.superseded())
        .setReplace(request.getReplace())
        .build());
    responses.onCompleted();
  }

  @Override
  public void revokeHost(RevokeHostRequest request, StreamObserver<RevokeHostResponse> responses) {
    var revoked = revocation.revoke(request.getHostName(), request.getReason(), Caller.operatorUri());
    responses.onNext(RevokeHostResponse.newBuilder()
        .addAllRevokedSerials(revoked.serials())
        .setClosedStreams(revoked.closedStreams())
        .build());
    responses.onCompleted();
  }

  @Override
  public void listSecurityEvents(ListSecurityEventsRequest request,
      StreamObserver<ListSecurityEventsResponse> responses) {
    int limit = request.getLimit() <= 0 ? 100 : Math.min(request.getLimit(), 1000);
    ListSecurityEventsResponse.Builder out = ListSecurityEventsResponse.newBuilder();
    for (var event : securityEvents.recent(limit)) {
      out.addEvents(OperationsViews.securityEvent(event));
    }
    responses.onNext(out.build());
    responses.onCompleted();
  }

  @Override
  public void planDeployment(PlanDeploymentRequest request, StreamObserver<PlanDeploymentResponse> responses) {
    responses.onNext(plans.plan(request));
    responses.onCompleted();
  }

  private void announce(String deployment, String text) {
    watchHub.announceChange(clock.instant(), deployment, text);
  }

}
