package io.infraveil.controlplane.dashboard;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.core.bind.annotation.Bindable;
import java.time.Duration;

/**
 * Browser sign-in to the dashboard ({@code infraveil.dashboard.*}).
 *
 * @param linkTtl how long a sign-in link from {@code ctl dashboard} may wait to be opened
 * @param sessionTtl how long the session it opens lasts unless the request asks for less
 */
@ConfigurationProperties("infraveil.dashboard")
public record DashboardSettings(
    @Bindable(defaultValue = "5m") Duration linkTtl,
    @Bindable(defaultValue = "12h") Duration sessionTtl) {

  /** The longest session anyone may ask for. */
  public static final Duration MAX_SESSION_TTL = Duration.ofDays(7);
}
