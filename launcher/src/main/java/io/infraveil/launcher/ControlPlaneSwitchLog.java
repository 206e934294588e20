package io.infraveil.launcher;

import io.infraveil.host.grpc.ControlPlaneChannel;
import io.infraveil.host.grpc.ControlPlaneChannels.Target;
import java.util.Objects;
import java.util.Optional;

/**
 * One log line each time another control-plane replica starts answering this host:
 * {@code action=control_plane_connected endpoint=b:7443 was=a:7443
 * msg="connected to control plane b:7443 (was a:7443)"}.
 */
final class ControlPlaneSwitchLog implements ControlPlaneChannel.SwitchListener {

  private final LauncherLog log;

  ControlPlaneSwitchLog(LauncherLog log) {
    this.log = Objects.requireNonNull(log, "log");
  }

  @Override
  public void switched(Target now, Optional<Target> was) {
    String before = was.map(Target::toString).orElse("none");
    log.event("control_plane_connected", "endpoint", now, "was", before,
        "msg", "connected to control plane " + now
            + was.map(w -> " (was " + w + ")").orElse(""));
  }
}
