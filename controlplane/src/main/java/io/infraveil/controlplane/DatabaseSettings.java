package io.infraveil.controlplane;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.bind.annotation.Bindable;
import java.nio.file.Path;

/**
 * Where the control plane keeps its truth ({@code infraveil.datasource.*}): by default the
 * embedded H2 database in the data dir; with a URL, a PostgreSQL database that replicas share.
 * Read by {@link StoreDatabase} before the application context starts. The password is never a
 * property of its own: it comes from a file, or from {@value StoreDatabase#PASSWORD_ENV}.
 *
 * @param url JDBC URL of the database ({@code jdbc:postgresql://HOST:PORT/DATABASE}); none for
 *     the embedded H2 in the data dir ({@code --database} on the command line)
 * @param username the database user
 * @param passwordFile a file whose first line is the database user's password
 * @param poolSize connections each control plane keeps open to PostgreSQL at most
 */
@ConfigurationProperties("infraveil.datasource")
public record DatabaseSettings(
    @Nullable String url,
    @Nullable String username,
    @Nullable Path passwordFile,
    @Bindable(defaultValue = "10") int poolSize) {}
