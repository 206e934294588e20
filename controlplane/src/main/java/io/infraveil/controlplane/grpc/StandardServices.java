package io.infraveil.controlplane.grpc;

import io.grpc.BindableService;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Named;
import jakarta.inject.Singleton;

/**
 * Server reflection, so grpcurl-style clients need nothing but the CA and a certificate. Both
 * versions: older clients still ask for v1alpha. (grpc.health.v1.Health comes from
 * micronaut-grpc itself.)
 */
@Factory
final class StandardServices {

  @Singleton
  @Named("reflection-v1")
  BindableService reflectionV1() {
    return ProtoReflectionServiceV1.newInstance();
  }

  @Singleton
  @Named("reflection-v1alpha")
  @SuppressWarnings("deprecation")
  BindableService reflectionV1Alpha() {
    return ProtoReflectionService.newInstance();
  }
}
