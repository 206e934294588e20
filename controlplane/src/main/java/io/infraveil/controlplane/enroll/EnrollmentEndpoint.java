package io.infraveil.controlplane.enroll;

import io.grpc.Grpc;
import io.grpc.stub.StreamObserver;
import io.infraveil.certs.Pem;
import io.infraveil.controlplane.ServerPki;
import io.infraveil.controlplane.auth.Caller;
import io.infraveil.proto.v1.EnrollRequest;
import io.infraveil.proto.v1.EnrollResponse;
import io.infraveil.proto.v1.EnrollmentServiceGrpc;
import io.infraveil.proto.v1.RenewRequest;
import io.infraveil.proto.v1.RenewResponse;
import jakarta.inject.Singleton;
import java.security.cert.X509Certificate;
import io.infraveil.controlplane.grpc.ProtoTime;

/** gRPC edge of {@link Enrollment}. */
@Singleton
final class EnrollmentEndpoint extends EnrollmentServiceGrpc.EnrollmentServiceImplBase {

  private final Enrollment enrollment;
  private final ServerPki pki;

  EnrollmentEndpoint(Enrollment enrollment, ServerPki pki) {
    this.enrollment = enrollment;
    this.pki = pki;
  }

  @Override
  public void enroll(EnrollRequest request, StreamObserver<EnrollResponse> responses) {
    var enrolled = enrollment.enroll(request.getJoinToken(), request.getHostName(), request.getCsrPem(),
        request.getLabelsMap(), null);
    responses.onNext(EnrollResponse.newBuilder()
        .setCertificatePem(Pem.encode(enrolled.certificate()))
        .setCaBundlePem(enrolled.caBundlePem())
        .setIdentity(enrolled.identity().uri())
        .setNotAfter(ProtoTime.timestamp(enrolled.certificate().getNotAfter().toInstant()))
        .setHostSecret(com.google.protobuf.ByteString.copyFrom(enrolled.hostSecret()))
        .build());
    responses.onCompleted();
  }

  @Override
  public void renew(RenewRequest request, StreamObserver<RenewResponse> responses) {
    X509Certificate certificate = enrollment.renew(Caller.requireHost(), request.getCsrPem());
    responses.onNext(RenewResponse.newBuilder()
        .setCertificatePem(Pem.encode(certificate))
        .setCaBundlePem(pki.caBundlePem())
        .setNotAfter(ProtoTime.timestamp(certificate.getNotAfter().toInstant()))
        .build());
    responses.onCompleted();
  }

}
