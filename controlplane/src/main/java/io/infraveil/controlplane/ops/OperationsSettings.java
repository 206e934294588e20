package io.infraveil.controlplane.ops;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.core.bind.annotation.Bindable;
import java.time.Duration;

/**
 * Settings of the operations half of the control plane ({@code infraveil.*}): the HTTP
 * surface, history retention and incident rules.
 *
 * @param httpPort port of the HTTPS status page, operations API and metrics (0 for any)
 * @param httpHost address the HTTP server binds (loopback by default)
 * @param retention how long history (reports, console lines, traces, resolved incidents) is kept
 * @param historyFlushInterval how often queued history rows are written to the store
 * @param historyBatchSize rows that trigger a flush before the interval ends
 * @param reportInterval how often launchers report; a host is offline after 3 missed intervals
 * @param incidentCheckInterval how often incident rules run on a timer (they also run on reports)
 * @param rolloutStuckAfter how long a placed host may take to run a new version
 * @param authFailureThreshold certificate or authorization failures by one caller that open an incident
 * @param authFailureWindow the rolling window those failures are counted in
 */
@ConfigurationProperties("infraveil")
public record OperationsSettings(
    @Bindable(defaultValue = "7080") int httpPort,
    @Bindable(defaultValue = "127.0.0.1") String httpHost,
    @Bindable(defaultValue = "7d") Duration retention,
    @Bindable(defaultValue = "1s") Duration historyFlushInterval,
    @Bindable(defaultValue = "1000") int historyBatchSize,
    @Bindable(defaultValue = "10s") Duration reportInterval,
    @Bindable(defaultValue = "5s") Duration incidentCheckInterval,
    @Bindable(defaultValue = "10m") Duration rolloutStuckAfter,
    @Bindable(defaultValue = "5") int authFailureThreshold,
    @Bindable(defaultValue = "5m") Duration authFailureWindow) {}
