package io.infraveil.controlplane.auth;

import io.infraveil.certs.Identity;
import io.infraveil.proto.v1.AgentReportServiceGrpc;
import io.infraveil.proto.v1.DashboardSignInServiceGrpc;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.LauncherSyncServiceGrpc;
import io.infraveil.proto.v1.OperatorServiceGrpc;
import io.infraveil.proto.v1.PayloadServiceGrpc;
import io.infraveil.proto.v1.RolloutServiceGrpc;
import io.infraveil.proto.v1.SecretAdminServiceGrpc;
import io.infraveil.proto.v1.SecretServiceGrpc;
import java.util.Optional;

/**
 * Who may call what, by gRPC method: the one table of coarse authorization. Finer checks (a
 * host acts only as itself, fetches only what is placed on it) live in the services, which
 * ask {@link Caller}.
 */
final class MethodPolicy {

  /** The kind of caller a method admits. */
  enum Audience {
    /**
     * Anyone, even without a client certificate: Enroll, and server reflection, whose answer is
     * the public contracts; so a client without a certificate learns from the method it calls
     * that it needs one, instead of a tool reporting "service not found".
     */
    ANYONE,
    /** Any identity the CA vouches for: health and reflection. */
    ANY_IDENTITY,
    HOSTS,
    OPERATORS
  }

  /** Server reflection, both versions (older grpcurl builds ask for v1alpha). */
  private static final java.util.Set<String> REFLECTION = java.util.Set.of(
      "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection");

  private MethodPolicy() {}

  static Audience audienceOf(String fullMethodName) {
    if (fullMethodName.equals(EnrollmentServiceGrpc.getEnrollMethod().getFullMethodName())) {
      return Audience.ANYONE;
    }
    String service = fullMethodName.substring(0, Math.max(0, fullMethodName.indexOf('/')));
    if (REFLECTION.contains(service)) {
      return Audience.ANYONE;
    }
    if (service.equals(OperatorServiceGrpc.SERVICE_NAME)
        || service.equals(SecretAdminServiceGrpc.SERVICE_NAME)
        || service.equals(DashboardSignInServiceGrpc.SERVICE_NAME)
        || service.equals(RolloutServiceGrpc.SERVICE_NAME)) {
      return Audience.OPERATORS;
    }
    if (service.equals(LauncherSyncServiceGrpc.SERVICE_NAME)
        || service.equals(PayloadServiceGrpc.SERVICE_NAME)
        || service.equals(SecretServiceGrpc.SERVICE_NAME)
        || service.equals(AgentReportServiceGrpc.SERVICE_NAME)
        || service.equals(EnrollmentServiceGrpc.SERVICE_NAME)) {
      return Audience.HOSTS;
    }
    return Audience.ANY_IDENTITY;
  }

  /** Why {@code identity} may not call a method for {@code audience}, or empty if it may. */
  static Optional<String> refusal(Audience audience, Identity identity) {
    return switch (audience) {
      case ANYONE, ANY_IDENTITY -> Optional.empty();
      case HOSTS -> identity.isHost() ? Optional.empty() : Optional.of("only hosts may call it");
      case OPERATORS -> identity.isOperator()
          ? Optional.empty()
          : Optional.of("only operators may call it");
    };
  }
}
