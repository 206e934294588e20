package io.infraveil.agent;

import io.infraveil.appconfig.PortSpec;
import io.infraveil.appconfig.ServiceSpec;
import io.infraveil.host.fs.JsonFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The ports of every service instance of this agent, kept in {@code <agentDir>/ports.json} so
 * an instance restarted (healed, its agent restarted, a new version) comes back on the port it
 * had, as long as that port is still free; a port taken meanwhile by something else is replaced
 * by a new free one. Fixed ports ({@code http: 8080}) are the same for every cluster index and
 * are not stored. Thread-safe.
 */
public final class PortAssignments {

  public static final String FILE = "ports.json";

  /** The file: service → "name/index" → port. */
  record Saved(int formatVersion, Map<String, Map<String, Integer>> services) {
    static final int FORMAT_VERSION = 1;

    Saved {
      services = services == null ? new TreeMap<>() : services;
    }
  }

  private static final System.Logger LOG = System.getLogger(PortAssignments.class.getName());

  private final Path file;
  private final FreePorts freePorts;
  /** Guarded by {@code this}. */
  private final Map<String, Map<String, Integer>> saved;

  public PortAssignments(Path agentDir, FreePorts freePorts) {
    this.file = Objects.requireNonNull(agentDir, "agentDir").resolve(FILE);
    this.freePorts = Objects.requireNonNull(freePorts, "freePorts");
    Map<String, Map<String, Integer>> loaded = new TreeMap<>();
    try {
      JsonFiles.read(file, Saved.class).ifPresent(s -> s.services()
          .forEach((service, ports) -> loaded.put(service, new TreeMap<>(ports))));
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot read " + file + "; ports are chosen anew", e);
    }
    this.saved = loaded;
  }

  /**
   * The ports of every cluster index of {@code spec} as kept, without checking they are free
   * (an adopted instance holds its own). Missing dynamic ones are chosen as in {@link #assign}.
   */
  public synchronized Map<Integer, Map<String, Integer>> current(ServiceSpec spec) {
    return resolve(spec, false);
  }

  /**
   * The ports for starting {@code spec}'s instances now: each dynamic port kept from before if
   * nothing listens on it, else a new free one (saved). Call once the old processes are gone.
   */
  public synchronized Map<Integer, Map<String, Integer>> assign(ServiceSpec spec) {
    return resolve(spec, true);
  }

  private Map<Integer, Map<String, Integer>> resolve(ServiceSpec spec, boolean checkFree) {
    Map<Integer, Map<String, Integer>> result = new TreeMap<>();
    if (spec.ports().isEmpty()) {
      return result;
    }
    Map<String, Integer> mine = saved.computeIfAbsent(spec.name(), k -> new TreeMap<>());
    Set<Integer> taken = new HashSet<>();
    saved.values().forEach(ports -> taken.addAll(ports.values()));
    boolean changed = false;
    for (int index = 0; index < spec.clusters(); index++) {
      Map<String, Integer> ports = new LinkedHashMap<>();
      for (PortSpec port : spec.ports()) {
        if (port.fixed().isPresent()) {
          ports.put(port.name(), port.fixed().getAsInt());
          continue;
        }
        String key = port.name() + "/" + index;
        Integer kept = mine.get(key);
        if (kept == null || (checkFree && !freePorts.isFree(kept))) {
          if (kept != null) {
            LOG.log(System.Logger.Level.WARNING, "port " + kept + " of " + spec.name() + " "
                + port.name() + " (cluster " + index + ") is in use by another process; a new"
                + " one is chosen");
          }
          int fresh = pickUnused(taken);
          mine.put(key, fresh);
          taken.add(fresh);
          kept = fresh;
          changed = true;
        }
        ports.put(port.name(), kept);
      }
      result.put(index, ports);
    }
    if (changed) {
      save();
    }
    return result;
  }

  private int pickUnused(Set<Integer> taken) {
    try {
      for (int attempt = 0; attempt < 20; attempt++) {
        int port = freePorts.pick();
        if (!taken.contains(port)) {
          return port;
        }
      }
      throw new IOException("the kernel kept offering ports already given to other instances");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free port: " + e.getMessage(), e);
    }
  }

  private void save() {
    try {
      JsonFiles.write(file, new Saved(Saved.FORMAT_VERSION, saved));
    } catch (IOException e) {
      LOG.log(System.Logger.Level.ERROR, "cannot save " + file + "; ports may change at the"
          + " next agent start", e);
    }
  }
}
