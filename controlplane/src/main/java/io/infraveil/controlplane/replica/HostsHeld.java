package io.infraveil.controlplane.replica;

/**
 * How many hosts a replica holds (has their Sync stream open). One method, so that the
 * shared live state can answer it from the database in place of {@link StreamHostsHeld}.
 */
public interface HostsHeld {

  /** Hosts whose Sync stream is open on {@code replica}; 0 for a replica not known. */
  int hostsHeldBy(String replica);
}
