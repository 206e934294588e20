package io.infraveil.agent;

/**
 * Life of one service of the running version; mirrors {@code infraveil.v1.ServiceState}.
 *
 * <pre>
 *   STARTING ──sequence ok, check ok──> RUNNING <──────────────┐
 *      │                                  │                    │ sequence ok, check ok
 *      │ start failed / check failed      │ crash / check failed│ (SERVICE_RECOVERED)
 *      └─────────────────────────────────>HEALING ─────────────┘
 *                                           │ budget spent (SERVICE_FAILED)
 *                                           v
 *                                         FAILED   (terminal until a new start)
 *
 *   any state ──stop()──> STOPPED (terminal)
 * </pre>
 */
public enum ServiceState {
  /** Preflight, start and postflight of the first attempt are running. */
  STARTING(false),
  /** Started; judged by its supervised processes and its health check. */
  RUNNING(false),
  /** A crash or a failed check is being healed (stop, preflight, start, postflight, check). */
  HEALING(false),
  /** The healing budget is spent; stopped and left alone. */
  FAILED(true),
  /** Stopped on purpose. */
  STOPPED(true);

  private final boolean terminal;

  ServiceState(boolean terminal) {
    this.terminal = terminal;
  }

  public boolean isTerminal() {
    return terminal;
  }
}
