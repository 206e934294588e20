package io.infraveil.host.process.cgroup;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The cgroups of one host data dir: the agent asks for a {@link ServiceCgroup} per service
 * instance; the launcher can {@link #killDeployment} to leave no process of a deployment,
 * whatever its agent did.
 */
public final class Cgroups {

  private final CgroupLayout layout;
  private final String hostKey;

  public Cgroups(CgroupLayout layout, Path dataDir) {
    this.layout = Objects.requireNonNull(layout, "layout");
    this.hostKey = CgroupName.hostKey(Objects.requireNonNull(dataDir, "dataDir"));
  }

  /** The cgroups of {@code dataDir} on this machine's detected layout. */
  public static Cgroups system(Path dataDir) {
    return new Cgroups(CgroupLayout.system(), dataDir);
  }

  public CgroupLayout layout() {
    return layout;
  }

  public String hostKey() {
    return hostKey;
  }

  /** The cgroup of one service instance (not created yet: call {@link ServiceCgroup#create}). */
  public ServiceCgroup service(String deployment, String service, int clusterIndex) {
    return new ServiceCgroup(layout, CgroupName.instance(hostKey, deployment, service,
        clusterIndex));
  }

  /** Every existing instance cgroup of a deployment (empty without cgroups). */
  public List<ServiceCgroup> deploymentCgroups(String deployment) {
    if (!layout.tracks()) {
      return List.of();
    }
    String relative = CgroupName.deployment(hostKey, deployment);
    Path dir = layout.tracking().orElseThrow().resolve(relative);
    List<ServiceCgroup> found = new ArrayList<>();
    try (Stream<Path> children = Files.list(dir)) {
      children.filter(Files::isDirectory).sorted().forEach(child -> found.add(
          new ServiceCgroup(layout, relative + "/" + child.getFileName())));
    } catch (NoSuchFileException none) {
      return List.of();
    } catch (IOException e) {
      throw new IllegalStateException("cannot list " + dir + ": " + e.getMessage(), e);
    }
    return found;
  }

  /** What {@link #killDeployment} did. */
  public record KillReport(int cgroups, int killed, List<String> leftOver) {
    public KillReport {
      leftOver = List.copyOf(leftOver);
    }
  }

  /**
   * Stops every process of a deployment on this host: {@code signal} to all of them at once,
   * up to {@code grace}, then a kill; removes the deployment's cgroups. Safe to call when the
   * deployment has none, and while its agent is stopping them too.
   */
  public KillReport killDeployment(String deployment, String signal, Duration grace) {
    List<ServiceCgroup> groups = deploymentCgroups(deployment);
    groups.forEach(g -> g.signalAll(signal));
    long deadline = System.nanoTime() + grace.toNanos();
    int killed = 0;
    List<String> leftOver = new ArrayList<>();
    for (ServiceCgroup g : groups) {
      long left = Math.max(0, deadline - System.nanoTime());
      if (!g.awaitEmpty(Duration.ofNanos(left))) {
        g.kill();
        killed++;
      }
    }
    for (ServiceCgroup g : groups) {
      if (!g.awaitEmpty(Duration.ofSeconds(5)) || !g.remove()) {
        leftOver.add(g.name());
      }
    }
    if (leftOver.isEmpty() && layout.tracks()) {
      String relative = CgroupName.deployment(hostKey, deployment);
      List<Path> tops = new ArrayList<>(layout.v1().values());
      tops.add(layout.tracking().orElseThrow());
      for (Path top : tops) {
        rmdir(top.resolve(relative));
        if (!hasChildCgroups(top.resolve(hostKey))) {
          rmdir(top.resolve(hostKey)); // the last deployment of this data dir
        }
      }
    }
    return new KillReport(groups.size(), killed, leftOver);
  }

  /**
   * As {@link #killDeployment}, but leaves the instance cgroups named in {@code keep} (their
   * {@link ServiceCgroup#name()}) alone, and the deployment's directory with them.
   */
  public KillReport killDeploymentExcept(String deployment, java.util.Set<String> keep,
      String signal, Duration grace) {
    if (keep.isEmpty()) {
      return killDeployment(deployment, signal, grace);
    }
    List<ServiceCgroup> groups = deploymentCgroups(deployment).stream()
        .filter(g -> !keep.contains(g.name())).toList();
    groups.forEach(g -> g.signalAll(signal));
    long deadline = System.nanoTime() + grace.toNanos();
    int killed = 0;
    List<String> leftOver = new ArrayList<>();
    for (ServiceCgroup g : groups) {
      if (!g.awaitEmpty(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
        g.kill();
        killed++;
      }
    }
    for (ServiceCgroup g : groups) {
      if (!g.awaitEmpty(Duration.ofSeconds(5)) || !g.remove()) {
        leftOver.add(g.name());
      }
    }
    return new KillReport(groups.size(), killed, leftOver);
  }

  private static boolean hasChildCgroups(Path dir) {
    try (Stream<Path> children = Files.list(dir)) {
      return children.anyMatch(Files::isDirectory);
    } catch (IOException gone) {
      return false;
    }
  }

  /**
   * Removes an empty cgroup directory; true when it is gone. The kernel may answer EBUSY for a
   * moment after the last process left, so this retries briefly.
   */
  static boolean rmdir(Path dir) {
    for (int attempt = 0; attempt < 50; attempt++) {
      try {
        Files.deleteIfExists(dir);
        return true;
      } catch (DirectoryNotEmptyException childCgroups) {
        return false;
      } catch (IOException busy) {
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    }
    return false;
  }
}
