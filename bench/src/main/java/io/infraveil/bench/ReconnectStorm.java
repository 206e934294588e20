package io.infraveil.bench;

import io.infraveil.bench.storm.StormFleet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Thousands of hosts reconnecting at once, the control plane and the hosts in separate
 * processes: the control plane from the CLI ({@code infraveil controlplane}), the hosts in one
 * or more load-generator JVMs ({@link io.infraveil.bench.storm.StormHosts}, each holding one
 * socket per host). All hosts enroll, then open their mutual-TLS Sync streams at once; then the
 * control plane restarts (same data dir and port) and all reconnect at once with their TLS
 * session caches. Prints online times, first-answer percentiles, failed attempts, resumed and
 * queued handshakes and the control plane's CPU per connect; asserts nothing about speed.
 *
 * <p>Arguments: {@code HOSTS [HOSTS_PER_PROCESS]} (default 2000 and 5000).
 */
public final class ReconnectStorm {

  private ReconnectStorm() {}

  public static void main(String[] args) throws Exception {
    int hosts = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int perProcess = args.length > 1 ? Integer.parseInt(args[1]) : StormFleet.DEFAULT_HOSTS_PER_PROCESS;
    Path dir = Files.createTempDirectory("infraveil-storm");
    System.out.println(StormFleet.run(dir, hosts, perProcess, Duration.ofMinutes(5)).describe());
  }
}
