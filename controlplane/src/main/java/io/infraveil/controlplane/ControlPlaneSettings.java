package io.infraveil.controlplane;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.core.bind.annotation.Bindable;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The control plane's own settings ({@code infraveil.*}).
 *
 * @param dataDir where the H2 database and the master key live
 * @param certsDir the PKI directory with ca.crt, ca.key and the server certificate
 * @param serverName name of the server certificate in certsDir (NAME.crt / NAME.key); made
 *     there on first start when missing
 * @param hostCertificateLifetime lifetime of host certificates issued at enrollment and renewal
 * @param joinTokenTtl default lifetime of join tokens
 */
@ConfigurationProperties("infraveil")
public record ControlPlaneSettings(
    Path dataDir,
    Path certsDir,
    @Bindable(defaultValue = "controlplane") String serverName,
    @Bindable(defaultValue = "7d") Duration hostCertificateLifetime,
    @Bindable(defaultValue = "1h") Duration joinTokenTtl) {}
