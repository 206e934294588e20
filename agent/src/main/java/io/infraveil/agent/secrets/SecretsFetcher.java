package io.infraveil.agent.secrets;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.host.fs.AtomicFiles;
import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.proto.v1.FetchSecretsRequest;
import io.infraveil.proto.v1.FetchSecretsResponse;
import io.infraveil.proto.v1.SecretServiceGrpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Fetches the deployment's secrets, sealed for this host, from the control plane, and keeps the
 * sealed answer in {@code cacheFile} (mode 0600, still sealed) so an agent restarted while the
 * control plane is away can start its services again. A bundle once fetched is kept for the
 * life of this agent: a changed secret restarts the deployment, which starts a new agent.
 */
public final class SecretsFetcher {

  private static final System.Logger LOG = System.getLogger(SecretsFetcher.class.getName());

  /** Where a bundle came from, or why there is none. */
  public enum Source {
    FETCHED,
    /** The control plane was unreachable; the sealed copy from the last fetch was used. */
    CACHED,
    /** The control plane refused: the deployment is not placed on this host. */
    DENIED,
    /** Unreachable, and nothing cached. */
    UNAVAILABLE,
    /** What arrived (or was cached) does not open with this host's key. */
    REJECTED
  }

  /** A bundle, or the problem that prevents one. */
  public record Result(Source source, Optional<SecretBundle> bundle, String problem) {
    public Result {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(bundle, "bundle");
      problem = problem == null ? "" : problem;
    }
  }

  private final String deployment;
  private final Channel channel;
  private final byte[] hostWrapKey;
  private final Path cacheFile;
  private final Duration deadline;
  /** Guarded by {@code this}. */
  private Result kept;
  /** Guarded by {@code this}. */
  private boolean unreachable;

  public SecretsFetcher(String deployment, Channel channel, byte[] hostWrapKey, Path cacheFile,
      Duration deadline) {
    this.deployment = Objects.requireNonNull(deployment, "deployment");
    this.channel = Objects.requireNonNull(channel, "channel");
    this.hostWrapKey = Objects.requireNonNull(hostWrapKey, "hostWrapKey").clone();
    this.cacheFile = Objects.requireNonNull(cacheFile, "cacheFile");
    this.deadline = Objects.requireNonNull(deadline, "deadline");
  }

  /** The bundle this agent uses: fetched once, then kept; failures are tried again next time. */
  public synchronized Result current() {
    if (kept != null) {
      return kept;
    }
    Result result = fetch();
    if (result.bundle().isPresent()) {
      kept = result;
    }
    unreachable = result.source() == Source.UNAVAILABLE;
    return result;
  }

  /** True when the latest attempt found neither the control plane nor a kept copy. */
  public synchronized boolean unreachable() {
    return unreachable;
  }

  private Result fetch() {
    FetchSecretsResponse response;
    try {
      response = SecretServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
          .fetchSecrets(FetchSecretsRequest.newBuilder().setDeployment(deployment).build());
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      if (code == Status.Code.PERMISSION_DENIED || code == Status.Code.UNAUTHENTICATED) {
        return new Result(Source.DENIED, Optional.empty(), "the control plane refused the"
            + " secrets of deployment " + deployment + ": " + e.getStatus().getDescription());
      }
      return fromCache("the control plane is unreachable for secrets (" + code + ": "
          + e.getStatus().getDescription() + ")");
    }
    Result opened = open(response, Source.FETCHED);
    if (opened.bundle().isPresent()) {
      try {
        AtomicFiles.write(cacheFile, response.toByteArray(),
            PosixFilePermissions.fromString("rw-------"));
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot keep the sealed secrets in " + cacheFile
            + "; an agent restarted while the control plane is away will lack them", e);
      }
    }
    return opened;
  }

  private Result fromCache(String why) {
    if (!Files.isRegularFile(cacheFile)) {
      return new Result(Source.UNAVAILABLE, Optional.empty(), why + " and none are kept in "
          + cacheFile);
    }
    try {
      LOG.log(System.Logger.Level.WARNING, why + "; using the sealed copy in " + cacheFile);
      return open(FetchSecretsResponse.parseFrom(Files.readAllBytes(cacheFile)), Source.CACHED);
    } catch (IOException e) {
      return new Result(Source.UNAVAILABLE, Optional.empty(), why + " and " + cacheFile
          + " cannot be read: " + e.getMessage());
    }
  }

  private Result open(FetchSecretsResponse response, Source source) {
    try {
      return new Result(source, Optional.of(SecretBundle.open(response, deployment, hostWrapKey)),
          "");
    } catch (PayloadRejectedException | IllegalArgumentException e) {
      return new Result(Source.REJECTED, Optional.empty(), "the secrets of deployment "
          + deployment + " (" + source.name().toLowerCase(java.util.Locale.ROOT)
          + ") do not open with this host's key: " + e.getMessage());
    }
  }
}
