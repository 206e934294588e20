package io.infraveil.controlplane.hosts;

import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.store.CertificateStore;
import io.infraveil.controlplane.store.HostStore;
import io.infraveil.proto.v1.Host;
import io.infraveil.proto.v1.HostConnection;
import jakarta.inject.Singleton;
import java.util.List;

/** Builds the operator's view of hosts from the store and live connection state. */
@Singleton
public final class HostViews {

  private final HostStore hosts;
  private final CertificateStore certificates;
  private final HostLiveness liveness;

  public HostViews(HostStore hosts, CertificateStore certificates, HostLiveness liveness) {
    this.hosts = hosts;
    this.certificates = certificates;
    this.liveness = liveness;
  }

  public List<Host> all() {
    return hosts.list().stream().map(this::view).toList();
  }

  private Host view(HostStore.HostRecord record) {
    Host.Builder host = Host.newBuilder()
        .setName(record.name())
        .setIdentity(record.identity())
        .putAllLabels(record.labels())
        .setEnrolledAt(ProtoTime.timestamp(record.enrolledAt()))
        .setDesiredRevision(record.desiredRevision())
        .setAckedRevision(record.ackedRevision());
    if (record.revoked()) {
      host.setConnection(HostConnection.HOST_CONNECTION_REVOKED);
    } else {
      host.setConnection(liveness.connection(record.name()));
    }
    liveness.lastReportAt(record.name()).ifPresent(at -> host.setLastReportAt(ProtoTime.timestamp(at)));
    liveness.agents(record.name()).forEach(host::addAgents);
    certificates.forHost(record.name()).stream()
        .map(CertificateStore.IssuedCertificate::notAfter)
        .max(java.util.Comparator.naturalOrder())
        .ifPresent(notAfter -> host.setCertificateNotAfter(ProtoTime.timestamp(notAfter)));
    return host.build();
  }
}
