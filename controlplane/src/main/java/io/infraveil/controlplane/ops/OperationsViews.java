package io.infraveil.controlplane.ops;

import io.infraveil.controlplane.auth.SecurityEvents;
import io.infraveil.controlplane.deploy.DeploymentViews;
import io.infraveil.controlplane.grpc.ProtoTime;
import io.infraveil.controlplane.hosts.HostViews;
import io.infraveil.controlplane.incidents.Incidents;
import io.infraveil.controlplane.pipeline.PipelineTelemetry;
import io.infraveil.controlplane.replica.ReplicaViews;
import io.infraveil.controlplane.store.SecurityEventStore.SecurityEventRecord;
import io.infraveil.proto.v1.CatalogInstance;
import io.infraveil.proto.v1.CatalogService;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.DeploymentOnHost;
import io.infraveil.proto.v1.GetStatusResponse;
import io.infraveil.proto.v1.Host;
import io.infraveil.proto.v1.HostConnection;
import io.infraveil.proto.v1.Incident;
import io.infraveil.proto.v1.IncidentState;
import io.infraveil.proto.v1.SecurityEvent;
import io.infraveil.proto.v1.ServiceStatus;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the operations view (the same message for gRPC GetStatus, the operations JSON and the
 * dashboard) and the public status, which is aggregate only: no host names, identities or
 * messages.
 */
@Singleton
public final class OperationsViews {

  static final int RECENT_INCIDENTS = 100;
  static final int SECURITY_EVENTS = 50;
  static final int PIPELINE_RUNS = 100;

  /** The public status page's data: aggregates only, no host names, version names or messages. */
  public record PublicStatus(String generatedAt, String overall, HostCounts hosts,
      List<PublicDeployment> deployments, List<PublicIncident> openIncidents) {}

  /** Hosts by connection state. */
  public record HostCounts(int total, int online, int detached, int offline) {}

  /**
   * One deployment, aggregated over its hosts. {@code health} is a slug for scripts and CSS,
   * {@code summary} the words shown; {@code hostsServing} counts hosts whose services all run
   * and pass their checks, whichever version they run.
   */
  public record PublicDeployment(String name, String health, String summary, int hostsTotal, int hostsServing,
      int hostsUpdated, int hostsFailed) {}

  /**
   * Open incidents of one cause on one deployment (or on none, for host and access
   * incidents), counted by the hosts involved; {@code since} is when the first opened.
   */
  public record PublicIncident(String rule, String title, String deployment, int hosts, String since) {}

  private final HostViews hosts;
  private final DeploymentViews deployments;
  private final Incidents incidents;
  private final SecurityEvents securityEvents;
  private final PipelineTelemetry pipeline;
  private final Clock clock;
  private final ReplicaViews replicas;

  public OperationsViews(HostViews hosts, DeploymentViews deployments, Incidents incidents,
      SecurityEvents securityEvents, PipelineTelemetry pipeline, Clock clock, ReplicaViews replicas) {
    this.replicas = replicas;
    this.hosts = hosts;
    this.deployments = deployments;
    this.incidents = incidents;
    this.securityEvents = securityEvents;
    this.pipeline = pipeline;
    this.clock = clock;
  }

  /** Hosts, deployments with rollout progress, incidents with timelines, security events, catalog, pipeline, replicas. */
  public GetStatusResponse operations() {
    List<Deployment> all = deployments.all();
    List<Incident> recent = incidents.list(false);
    return GetStatusResponse.newBuilder()
        .addAllHosts(hosts.all())
        .addAllDeployments(all)
        .addAllIncidents(recent.subList(0, Math.min(RECENT_INCIDENTS, recent.size())))
        .addAllSecurityEvents(securityEvents.recent(SECURITY_EVENTS).stream().map(OperationsViews::securityEvent).toList())
        .addAllCatalog(catalog(all))
        .addAllPipeline(pipeline.runs().stream().limit(PIPELINE_RUNS).toList())
        .addAllReplicas(replicas.all())
        .setAnsweredBy(replicas.self())
        .setGeneratedAt(ProtoTime.timestamp(clock.instant()))
        .build();
  }

  public List<Incident> incidents(boolean openOnly) {
    return incidents.list(openOnly);
  }

  public PublicStatus publicStatus() {
    List<Host> allHosts = hosts.all();
    int online = 0;
    int detached = 0;
    int offline = 0;
    int counted = 0;
    for (Host host : allHosts) {
      switch (host.getConnection()) {
        case HOST_CONNECTION_ONLINE -> online++;
        case HOST_CONNECTION_DETACHED -> detached++;
        case HOST_CONNECTION_OFFLINE -> offline++;
        case HOST_CONNECTION_REVOKED -> {
          continue; // revoked hosts are no longer part of the fleet
        }
        default -> {
          // enrolled, never connected: counted in the total only
        }
      }
      counted++;
    }
    List<PublicDeployment> publicDeployments = new ArrayList<>();
    for (Deployment d : deployments.all()) {
      var p = d.getProgress();
      String health = health(d);
      publicDeployments.add(new PublicDeployment(d.getName(), health, summary(health), p.getHostsTotal(),
          (int) servingHosts(d), p.getHostsUpdated(), p.getHostsFailed()));
    }
    List<PublicIncident> open = groupIncidents(incidents.list(true));
    String overall = overall(publicDeployments, open, offline);
    return new PublicStatus(humanTime(clock.instant()), overall, new HostCounts(counted, online, detached, offline),
        publicDeployments, open);
  }

  /** Incidents about a release that did not stop any host from serving. */
  private static final java.util.Set<String> RELEASE_RULES = java.util.Set.of("ROLLED_BACK", "PAYLOAD_REJECTED",
      "ROLLOUT_STUCK");

  /**
   * outage when a deployment has no host serving; degraded when one serves on fewer hosts
   * than placed, a host is offline, or an incident other than a held-back release is open;
   * operational otherwise, so a failed update that every host survived is no outage.
   */
  static String overall(List<PublicDeployment> deployments, List<PublicIncident> open, int offlineHosts) {
    if (deployments.stream().anyMatch(d -> d.health().equals("outage"))) {
      return "outage";
    }
    boolean fullyServing = deployments.stream().allMatch(d -> switch (d.health()) {
      case "healthy", "pending", "updating", "serving-previous-version" -> true;
      default -> false;
    });
    boolean onlyReleaseIncidents = open.stream().allMatch(i -> RELEASE_RULES.contains(i.rule()));
    return fullyServing && onlyReleaseIncidents && offlineHosts == 0 ? "operational" : "degraded";
  }

  /** One row per (deployment, rule), counting distinct hosts (or incidents when none names a host). */
  static List<PublicIncident> groupIncidents(List<Incident> open) {
    record Key(String deployment, String rule) {}
    Map<Key, List<Incident>> groups = new LinkedHashMap<>();
    open.stream()
        .sorted(java.util.Comparator.comparing((Incident i) -> ProtoTime.instant(i.getOpenedAt())))
        .forEach(i -> groups.computeIfAbsent(new Key(i.getDeployment(), i.getRule()), k -> new ArrayList<>()).add(i));
    List<PublicIncident> out = new ArrayList<>();
    groups.forEach((key, incidents) -> {
      long hosts = incidents.stream().map(Incident::getHostName).filter(h -> !h.isEmpty()).distinct().count();
      out.add(new PublicIncident(key.rule(), publicTitle(key.rule()), key.deployment(),
          (int) (hosts == 0 ? incidents.size() : hosts), humanTime(ProtoTime.instant(incidents.get(0).getOpenedAt()))));
    });
    return out;
  }

  /** The words the public page shows for a health slug. */
  static String summary(String health) {
    return switch (health) {
      case "serving-previous-version" -> "serving previous version";
      case "healthy" -> "healthy";
      case "updating" -> "updating";
      case "degraded" -> "degraded";
      case "outage" -> "not serving";
      case "pending" -> "starting";
      default -> throw new AssertionError("unknown health " + health);
    };
  }

  private static final java.time.format.DateTimeFormatter HUMAN_TIME =
      java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(java.time.ZoneOffset.UTC);

  static String humanTime(java.time.Instant at) {
    return HUMAN_TIME.format(at);
  }

  /**
   * The public health of a deployment, from what its hosts report:
   * <ul>
   *   <li>{@code pending}: placed nowhere yet, or nothing serves and nothing failed (first start);</li>
   *   <li>{@code healthy}: every placed host runs the current version with every service healthy;</li>
   *   <li>{@code serving-previous-version}: the current version failed (no host runs it healthy,
   *       at least one failed or rolled back) while every placed host serves an earlier version;</li>
   *   <li>{@code updating}: every placed host serves, not all on the current version yet;</li>
   *   <li>{@code degraded}: some placed hosts do not serve;</li>
   *   <li>{@code outage}: no placed host serves and something failed.</li>
   * </ul>
   */
  static String health(Deployment d) {
    var p = d.getProgress();
    if (p.getHostsTotal() == 0) {
      return "pending";
    }
    if (p.getHostsHealthy() == p.getHostsTotal()) {
      return "healthy";
    }
    long serving = servingHosts(d);
    if (serving >= p.getHostsTotal()) {
      return p.getHostsFailed() > 0 && p.getHostsHealthy() == 0 ? "serving-previous-version" : "updating";
    }
    if (serving == 0) {
      return p.getHostsFailed() == 0 ? "pending" : "outage";
    }
    return "degraded";
  }

  /** Hosts whose services all run and pass their checks, whatever version they run. */
  private static long servingHosts(Deployment d) {
    return d.getOnHostsList().stream()
        .filter(host -> host.getServicesCount() > 0 && host.getServicesList().stream().allMatch(service ->
            service.getState() == io.infraveil.proto.v1.ServiceState.SERVICE_STATE_RUNNING
                && service.getHealth() != io.infraveil.proto.v1.HealthStatus.HEALTH_STATUS_UNHEALTHY))
        .count();
  }

  static String publicTitle(String rule) {
    return switch (rule) {
      case "HOST_OFFLINE" -> "A server stopped reporting";
      case "AGENT_SUSPENDED" -> "A deployment is suspended on a server after repeated crashes";
      case "SERVICE_FAILED" -> "A service failed and could not be healed";
      case "ROLLED_BACK" -> "A new version was rolled back";
      case "PAYLOAD_REJECTED" -> "A server refused a release that failed its checks";
      case "CERTIFICATE_OR_AUTHORIZATION" -> "Repeated refused access attempts";
      case "ROLLOUT_STUCK" -> "A rollout is taking longer than expected";
      default -> "An incident is open";
    };
  }

  static List<CatalogService> catalog(List<Deployment> all) {
    List<CatalogService> out = new ArrayList<>();
    for (Deployment d : all) {
      Map<String, CatalogService.Builder> byService = new LinkedHashMap<>();
      for (DeploymentOnHost on : d.getOnHostsList()) {
        for (ServiceStatus s : on.getServicesList()) {
          CatalogInstance.Builder instance = CatalogInstance.newBuilder()
              .setHostName(on.getHostName())
              .setState(s.getState())
              .setHealth(s.getHealth())
              .setVersion(on.getPayload().getVersion())
              .setRestartsTotal(s.getRestartsTotal());
          s.getPortsList().forEach(port -> instance.addEndpoints(
              io.infraveil.proto.v1.CatalogEndpoint.newBuilder()
                  .setName(port.getName())
                  .setClusterIndex(port.getClusterIndex())
                  .setAddress(on.getHostName() + ":" + port.getPort())));
          byService.computeIfAbsent(s.getName(), name -> CatalogService.newBuilder()
                  .setDeployment(d.getName()).setService(name))
              .addInstances(instance);
        }
      }
      byService.values().forEach(b -> out.add(b.build()));
    }
    return out;
  }

  public static SecurityEvent securityEvent(SecurityEventRecord event) {
    SecurityEvent.Builder proto = SecurityEvent.newBuilder()
        .setAt(ProtoTime.timestamp(event.at()))
        .setKind(event.kind())
        .setMessage(event.message())
        .setOccurrences(event.occurrences())
        .setLastAt(ProtoTime.timestamp(event.lastAt()));
    if (event.identity() != null) {
      proto.setIdentity(event.identity());
    }
    if (event.method() != null) {
      proto.setMethod(event.method());
    }
    if (event.peer() != null) {
      proto.setPeer(event.peer());
    }
    return proto.build();
  }

  static boolean isOpen(Incident incident) {
    return incident.getState() == IncidentState.INCIDENT_STATE_OPEN;
  }

  static boolean isOffline(Host host) {
    return host.getConnection() == HostConnection.HOST_CONNECTION_OFFLINE;
  }
}
