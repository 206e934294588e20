package io.infraveil.host.process.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Which cgroup hierarchies this host lets Infraveil write, detected once per process.
 *
 * <pre>
 * UNIFIED  pure cgroup v2 at /sys/fs/cgroup: tracking (cgroup.procs, cgroup.events,
 *          cgroup.kill) and limits (memory.max, cpu.max, pids.max) in one tree
 * HYBRID   a v2 tree at /sys/fs/cgroup/unified for tracking, and the memory, cpu and pids
 *          controllers as v1 trees at /sys/fs/cgroup/{memory,cpu,pids} for limits
 * NONE     nothing writable: services are contained by their process group only
 * </pre>
 *
 * Infraveil's cgroups live below {@code infraveil/} in every tree it uses.
 */
public final class CgroupLayout {

  /** How services are contained on this host. */
  public enum Mode { UNIFIED, HYBRID, NONE }

  /** The directory below each hierarchy root that holds every Infraveil cgroup. */
  public static final String TOP = "infraveil";

  /** The v1 controllers used for limits in the hybrid layout. */
  static final List<String> V1_CONTROLLERS = List.of("memory", "cpu", "pids");

  private static final Path SYSTEM_ROOT = Path.of("/sys/fs/cgroup");
  private static volatile CgroupLayout system;

  private final Mode mode;
  private final Path tracking;
  private final Map<String, Path> v1;
  private final String description;

  private CgroupLayout(Mode mode, Path tracking, Map<String, Path> v1, String description) {
    this.mode = Objects.requireNonNull(mode, "mode");
    this.tracking = tracking;
    this.v1 = Map.copyOf(v1);
    this.description = Objects.requireNonNull(description, "description");
  }

  /** The layout of this machine's {@code /sys/fs/cgroup}, detected on first use. */
  public static CgroupLayout system() {
    CgroupLayout found = system;
    if (found == null) {
      synchronized (CgroupLayout.class) {
        if (system == null) {
          system = detect(SYSTEM_ROOT);
        }
        found = system;
      }
    }
    return found;
  }

  /**
   * Detects the layout below {@code root}: a hierarchy counts only when Infraveil can create
   * its {@code infraveil/} directory in it (that is the test of "writable").
   */
  public static CgroupLayout detect(Path root) {
    if (Files.isRegularFile(root.resolve("cgroup.controllers"))) {
      Optional<String> problem = prepare(root);
      if (problem.isEmpty()) {
        enableV2Controllers(root);
        return new CgroupLayout(Mode.UNIFIED, root.resolve(TOP), Map.of(),
            "cgroup v2 at " + root);
      }
      return none("cgroup v2 at " + root + " is not writable (" + problem.get() + ")");
    }
    Path unified = root.resolve("unified");
    if (Files.isRegularFile(unified.resolve("cgroup.procs"))) {
      Optional<String> problem = prepare(unified);
      if (problem.isPresent()) {
        return none("cgroup v2 at " + unified + " is not writable (" + problem.get() + ")");
      }
      Map<String, Path> controllers = new LinkedHashMap<>();
      StringBuilder missing = new StringBuilder();
      for (String controller : V1_CONTROLLERS) {
        Path dir = root.resolve(controller);
        if (Files.isRegularFile(dir.resolve("cgroup.procs")) && prepare(dir).isEmpty()) {
          controllers.put(controller, dir.resolve(TOP));
        } else {
          missing.append(missing.isEmpty() ? "" : ", ").append(controller);
        }
      }
      return new CgroupLayout(Mode.HYBRID, unified.resolve(TOP), controllers,
          "hybrid: cgroup v2 at " + unified + " for tracking, v1 " + controllers.keySet()
              + " for limits" + (missing.isEmpty() ? ""
                  : "; no writable v1 " + missing + ": those limits are not enforced"));
    }
    return none("no cgroup hierarchy found at " + root);
  }

  private static CgroupLayout none(String why) {
    return new CgroupLayout(Mode.NONE, null, Map.of(),
        "process groups only: " + why + "; daemonizing start commands escape supervision and"
            + " resources limits are not enforced");
  }

  /** Creates {@code infraveil/} below a hierarchy root; empty when that worked. */
  private static Optional<String> prepare(Path hierarchy) {
    try {
      Files.createDirectories(hierarchy.resolve(TOP));
      return Files.isWritable(hierarchy.resolve(TOP).resolve("cgroup.procs"))
          ? Optional.empty() : Optional.of("cgroup.procs of " + hierarchy.resolve(TOP)
              + " is not writable");
    } catch (IOException | SecurityException e) {
      return Optional.of("cannot create " + hierarchy.resolve(TOP) + ": " + e);
    }
  }

  /** Lets children of {@code infraveil/} use memory, cpu and pids (those the host has). */
  private static void enableV2Controllers(Path root) {
    Controllers.enableBelow(root, root.resolve(TOP));
  }

  public Mode mode() {
    return mode;
  }

  /** True when every process of a service can be tracked and killed through its cgroup. */
  public boolean tracks() {
    return mode != Mode.NONE;
  }

  /** One line for the log and the heartbeat: what is used, or why nothing is. */
  public String description() {
    return description;
  }

  /** The {@code infraveil/} dir of the tracking (v2) tree; empty in {@link Mode#NONE}. */
  Optional<Path> tracking() {
    return Optional.ofNullable(tracking);
  }

  /** The {@code infraveil/} dir of each writable v1 controller (hybrid layout only). */
  Map<String, Path> v1() {
    return v1;
  }

  @Override
  public String toString() {
    return mode + " (" + description + ")";
  }
}
