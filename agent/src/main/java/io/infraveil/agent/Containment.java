package io.infraveil.agent;

import io.infraveil.host.process.cgroup.CgroupLayout;
import io.infraveil.host.process.cgroup.Cgroups;
import io.infraveil.host.process.cgroup.JoinPrimer;
import io.infraveil.host.process.cgroup.ServiceCgroup;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How this agent contains its services: a cgroup per service instance where the host allows
 * it, else the process group of each start command (said once in the log, and in every
 * heartbeat through {@link #description()}).
 */
public final class Containment {

  private static final System.Logger LOG = System.getLogger(Containment.class.getName());
  private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();

  private final Cgroups cgroups;
  private final String deployment;
  private final JoinPrimer joinPrimer;

  public Containment(Cgroups cgroups, String deployment) {
    this.cgroups = Objects.requireNonNull(cgroups, "cgroups");
    this.deployment = Objects.requireNonNull(deployment, "deployment");
    this.joinPrimer = new JoinPrimer(cgroups.layout());
    if (!cgroups.layout().tracks() && FALLBACK_LOGGED.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.WARNING, "services are not in cgroups: "
          + cgroups.layout().description());
    }
  }

  /** The agent's own: cgroups of host data dir {@code dataDir}, for {@code deployment}. */
  public static Containment of(Path dataDir, String deployment) {
    return new Containment(Cgroups.system(dataDir), deployment);
  }

  /**
   * For an agent dir outside a host data dir (engine tests): the agent dir stands in for the
   * data dir, so each one gets cgroups of its own.
   */
  static Containment standalone(Path agentDir) {
    return of(agentDir, agentDir.getFileName().toString());
  }

  public boolean tracks() {
    return cgroups.layout().tracks();
  }

  /** The cgroup of one instance, when cgroups are in use. */
  Optional<ServiceCgroup> cgroup(String service, int clusterIndex) {
    return tracks() ? Optional.of(cgroups.service(deployment, service, clusterIndex))
        : Optional.empty();
  }

  /**
   * Starts the kernel's wait for a cgroup join now, for a process about to be started into a
   * cgroup (a crash's replacement); nothing without cgroups. Returns at once.
   */
  void primeJoin() {
    joinPrimer.prime();
  }

  /**
   * Where the old processes of an instance wait while its new process starts (a rolling
   * replacement): {@code <service>.old-<index>}, escaped as {@code <service>%2Eold-<index>}, a
   * name no service can have ({@code .} is not allowed in service names).
   */
  Optional<ServiceCgroup> retiringCgroup(String service, int clusterIndex) {
    return cgroup(service + RETIRING_SUFFIX, clusterIndex);
  }

  static final String RETIRING_SUFFIX = ".old";

  /** Kills every cgroup of the deployment except those named in {@code keep}. */
  Cgroups.KillReport killAllExcept(java.util.Set<String> keep, java.time.Duration grace) {
    return cgroups.killDeploymentExcept(deployment, keep, "TERM", grace);
  }

  /** "cgroup: ..." or "process groups only: ..." for the heartbeat. */
  public String description() {
    CgroupLayout layout = cgroups.layout();
    return layout.tracks() ? "cgroup " + layout.mode().name().toLowerCase(java.util.Locale.ROOT)
        + ": " + layout.description() : layout.description();
  }

  /** Kills every cgroup of the deployment (leftovers of services no release has any more). */
  Cgroups.KillReport killAll(java.time.Duration grace) {
    return cgroups.killDeployment(deployment, "TERM", grace);
  }
}
