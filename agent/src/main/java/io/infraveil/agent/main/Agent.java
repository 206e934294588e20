package io.infraveil.agent.main;

import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.infraveil.agent.AgentEvent;
import io.infraveil.agent.AgentSettings;
import io.infraveil.agent.AgentSnapshot;
import io.infraveil.agent.AgentState;
import io.infraveil.agent.FileAgentStateStore;
import io.infraveil.agent.StartResult;
import io.infraveil.agent.ServiceSecrets;
import io.infraveil.agent.Supervisor;
import io.infraveil.agent.secrets.SecretMaterializer;
import io.infraveil.agent.secrets.SecretsFetcher;
import io.infraveil.appconfig.ServiceSpec;
import io.infraveil.payload.trust.HostKeys;
import io.infraveil.agent.metrics.AgentMetrics;
import io.infraveil.agent.metrics.AgentMetricsWriter;
import io.infraveil.agent.report.HeartbeatClient;
import io.infraveil.agent.report.LogShipper;
import io.infraveil.host.fs.AgentHandover;
import io.infraveil.host.fs.AtomicFiles;
import io.infraveil.host.grpc.ControlPlaneChannel;
import io.infraveil.host.grpc.ControlPlaneChannels;
import io.infraveil.host.metrics.MetricsTextFiles;
import io.infraveil.host.grpc.HostIdentityFiles;
import io.infraveil.host.payload.CacheResult;
import io.infraveil.host.payload.PayloadOrigin;
import io.infraveil.host.grpc.ReconnectLoop;
import io.infraveil.host.time.Backoff;
import io.infraveil.proto.v1.PayloadRef;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * One agent: the supervisor of one deployment's services on this host, its heartbeat and log
 * shipping, and the payload path (cache, verify, extract). Built in one place so tests run it
 * in-process; {@link AgentMain} only parses arguments and installs the shutdown hook.
 *
 * <p>{@link #start()} decides what to run with {@link StartPlan} and carries it out: the
 * desired version when it is verified (or already on disk while the control plane is away),
 * otherwise the version the previous agent ran or the newest known good one. A payload that
 * is unavailable is fetched again with backoff; a rejected one never runs.
 */
public final class Agent implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(Agent.class.getName());
  /** The deployment's secrets as last fetched, still sealed for this host. */
  static final String SECRETS_CACHE = "secrets.sealed";
  private static final Duration SECRETS_FETCH_DEADLINE = Duration.ofSeconds(10);

  /**
   * Reason of the event reporting a cache entry whose bytes failed verification at rest and
   * were evicted (then fetched again): reported once, as a payload rejection.
   */
  static final String CACHE_ENTRY_EVICTED = "CACHE_ENTRY_EVICTED";

  /** The engine's settings plus reporting and retry timings. */
  public record Settings(AgentSettings engine, Duration heartbeatInterval,
      Duration heartbeatMinGap, int logBatchSize, Duration logFlushInterval,
      Duration reconnectInitial, Duration reconnectMax, Duration fetchRetryInitial,
      Duration fetchRetryMax) {

    public static Settings defaults() {
      return new Settings(AgentSettings.defaults(), HeartbeatClient.Settings.DEFAULT_INTERVAL,
          HeartbeatClient.Settings.DEFAULT_MIN_GAP, LogShipper.Settings.DEFAULT_BATCH_SIZE,
          LogShipper.Settings.DEFAULT_FLUSH_INTERVAL, Duration.ofSeconds(1),
          Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofSeconds(30));
    }

    public Settings {
      Objects.requireNonNull(engine, "engine");
      Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
      Objects.requireNonNull(heartbeatMinGap, "heartbeatMinGap");
      Objects.requireNonNull(logFlushInterval, "logFlushInterval");
      Objects.requireNonNull(reconnectInitial, "reconnectInitial");
      Objects.requireNonNull(reconnectMax, "reconnectMax");
      Objects.requireNonNull(fetchRetryInitial, "fetchRetryInitial");
      Objects.requireNonNull(fetchRetryMax, "fetchRetryMax");
    }

    public Settings withEngine(AgentSettings value) {
      return new Settings(value, heartbeatInterval, heartbeatMinGap, logBatchSize,
          logFlushInterval, reconnectInitial, reconnectMax, fetchRetryInitial, fetchRetryMax);
    }

    public Settings withReporting(Duration interval, Duration minGap, Duration logFlush,
        Duration retryInitial, Duration retryMax) {
      return new Settings(engine, interval, minGap, logBatchSize, logFlush, retryInitial,
          retryMax, retryInitial, retryMax);
    }
  }

  private final Path agentDir;
  private final AgentDesired desired;
  private final Settings settings;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final PayloadStore store;
  private final ManagedChannel ownedChannel;
  /** Done when the channel can take calls without waiting ({@link DeferredChannel}). */
  private final java.util.concurrent.CompletionStage<?> reportingChannel;
  private final KnownPayloads known;
  private final CachedReleaseProvider releases;
  /** When each step of starting the desired version was reached, for the pipeline telemetry. */
  private final DeployTimeline timeline;
  private final Set<String> allowed = ConcurrentHashMap.newKeySet();
  private final Supervisor supervisor;
  /** Null when the agent has no host secret (tests without a control plane). */
  private final SecretMaterializer secrets;
  private final SecretsFetcher secretsFetcher;
  private final HeartbeatClient heartbeat;
  private final LogShipper shipper;
  private final String deployment;
  /**
   * Made once {@link #start()} carried out what to run: the meter registry and its JVM meters
   * are a large part of a start otherwise, and nothing on the way to the new version needs them.
   */
  private final java.util.concurrent.CompletableFuture<AgentMetrics> metrics =
      new java.util.concurrent.CompletableFuture<>();
  private final java.util.concurrent.CompletableFuture<AgentMetricsWriter> metricsWriter =
      new java.util.concurrent.CompletableFuture<>();
  private final Backoff fetchBackoff;
  /** Runs payload fetches, which block on the network, off the scheduler. */
  private final ExecutorService fetcher;
  private final StartPlan.Facts facts;
  private volatile StartPlan plan;
  private volatile String running;
  private int fetchAttempt;

  /**
   * An agent over {@code dataDir} for {@code deployment}, talking to the control plane over
   * {@code channel} (not closed here) as {@code hostName}.
   */
  public Agent(Path dataDir, String deployment, String hostName, Settings settings,
      Channel channel, PayloadStore store, Clock clock, ScheduledExecutorService scheduler)
      throws IOException {
    this(dataDir, deployment, hostName, settings, channel, null, store, null, clock, scheduler);
  }

  /**
   * As above, with the host secret whose wrap key opens the deployment's secrets (fetched over
   * {@code channel} when a release names some).
   */
  public Agent(Path dataDir, String deployment, String hostName, Settings settings,
      Channel channel, PayloadStore store, byte[] hostSecret, Clock clock,
      ScheduledExecutorService scheduler) throws IOException {
    this(dataDir, deployment, hostName, settings, channel, null, store, hostSecret, clock,
        scheduler);
  }

  private Agent(Path dataDir, String deployment, String hostName, Settings settings,
      Channel channel, ManagedChannel ownedChannel, PayloadStore store, byte[] hostSecret,
      Clock clock, ScheduledExecutorService scheduler) throws IOException {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(hostName, "hostName");
    Objects.requireNonNull(channel, "channel");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.ownedChannel = ownedChannel;
    this.reportingChannel = channel instanceof DeferredChannel deferred ? deferred.built()
        : java.util.concurrent.CompletableFuture.completedFuture(null);
    this.agentDir = AgentDesired.agentDir(dataDir, deployment);
    this.desired = AgentDesired.read(dataDir, deployment);
    removeStaleTemps(agentDir);
    this.known = new KnownPayloads(agentDir);
    AgentState saved = new FileAgentStateStore(agentDir).load();
    this.facts = new StartPlan.Facts(desired.payload().sha256(), desired.retryMarkedBad(),
        saved.versions().markedBad(), Optional.ofNullable(saved.releaseSha256()),
        saved.versions().knownGood(), false);
    if (!facts.skipDesired()) {
      allowed.add(desired.payload().sha256());
    }
    facts.previouslyRunning().ifPresent(allowed::add);
    allowed.addAll(facts.knownGood());
    this.releases = new CachedReleaseProvider(agentDir.resolve("releases"), store,
        sha -> allowed.contains(sha) || isLastKnownGood(sha), this::payloadRef,
        this::cacheEntryEvicted);
    this.secretsFetcher = hostSecret == null ? null : new SecretsFetcher(deployment, channel,
        HostKeys.fromSecret(hostSecret).wrapKey(), agentDir.resolve(SECRETS_CACHE),
        SECRETS_FETCH_DEADLINE);
    this.secrets = hostSecret == null ? null : new SecretMaterializer(deployment,
        agentDir.resolve("secrets"), secretsFetcher::current, ServiceSpec::user);
    this.timeline = DeployTimeline.ofThisProcess(desired.payload().sha256());
    io.infraveil.agent.ReleaseProvider timed = sha -> {
      Path dir = releases.releaseDir(sha);
      timeline.releaseReady(sha, clock.instant());
      return dir;
    };
    this.supervisor = new Supervisor(agentDir, timed, settings.engine(), clock, scheduler,
        new FileAgentStateStore(agentDir), io.infraveil.agent.Containment.of(dataDir, deployment),
        secrets == null ? ServiceSecrets.NONE : secrets,
        new io.infraveil.agent.InstanceContext(hostName, deployment, desired.hostLabels()),
        io.infraveil.agent.FreePorts.SYSTEM);
    ReconnectLoop.Settings reconnect = ReconnectLoop.Settings.of(settings.reconnectInitial(),
        settings.reconnectMax());
    this.heartbeat = new HeartbeatClient(new HeartbeatClient.Settings(hostName, deployment,
        desired.generation(), settings.heartbeatInterval(), settings.heartbeatMinGap(),
        settings.engine().eventCapacity(), settings.engine().healingMaxRestarts()), channel,
        new Source(), reconnect, RandomGenerator.getDefault(), clock, scheduler);
    this.shipper = new LogShipper(new LogShipper.Settings(hostName, deployment,
        settings.logBatchSize(), settings.logFlushInterval()), channel, supervisor.logQueue(),
        () -> Optional.ofNullable(running).orElse(""), reconnect,
        RandomGenerator.getDefault(), scheduler);
    this.fetchBackoff = new Backoff(settings.fetchRetryInitial(), settings.fetchRetryMax(), true,
        RandomGenerator.getDefault());
    this.fetcher = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "agent-fetch");
      t.setDaemon(true);
      return t;
    });
    supervisor.addListener(snapshot -> {
      timeline.observe(snapshot);
      heartbeat.changed();
    });
    this.deployment = deployment;
    supervisor.addListener(snapshot -> {
      // Before the writer exists there is nothing to update: it starts from the latest state.
      AgentMetricsWriter writer = metricsWriter.getNow(null);
      if (writer != null) {
        writer.changed(snapshot);
      }
    });
  }

  /** The files this agent writes in its dir (desired.json is the launcher's). */
  static final List<String> OWN_FILES =
      List.of(FileAgentStateStore.FILE_NAME, KnownPayloads.FILE, MetricsTextFiles.FILE_NAME,
          io.infraveil.agent.PortAssignments.FILE);

  /** Temp files a crash of the previous agent left behind; never read, removed at start. */
  private static void removeStaleTemps(Path agentDir) throws IOException {
    for (Path removed : AtomicFiles.removeStaleTemps(agentDir, OWN_FILES)) {
      LOG.log(System.Logger.Level.INFO, "removed " + removed + ", left by an interrupted write");
    }
  }

  /**
   * The agent of an enrolled host: identity from {@code DATA/identity}, the control plane from
   * desired.json (else host.json), the shared payload cache under {@code DATA/cache}.
   */
  public static Agent open(Path dataDir, String deployment, Settings settings, Clock clock,
      ScheduledExecutorService scheduler) throws IOException {
    return open(dataDir, deployment, openChannel(dataDir, deployment), settings, clock,
        scheduler);
  }

  /**
   * As above, over {@code channel} from {@link #openChannel} (made before logging is
   * configured, built when {@link #start()} or a call needs it); the agent owns it from here.
   */
  static Agent open(Path dataDir, String deployment, DeferredChannel channel, Settings settings,
      Clock clock, ScheduledExecutorService scheduler) throws IOException {
    try {
      HostIdentityFiles identity = HostIdentityFiles.inDataDir(dataDir);
      HostIdentityFiles.HostInfo host = identity.readHostInfo().orElseThrow(() ->
          new IOException(identity.hostInfoFile() + " does not exist; enroll the launcher first"));
      byte[] hostSecret = identity.readSecret();
      PayloadStore store = CachePayloadStore.forHost(dataDir, deployment, channel, hostSecret);
      return new Agent(dataDir, deployment, host.name(), settings, channel, channel, store,
          hostSecret, clock, scheduler);
    } catch (IOException | RuntimeException e) {
      channel.shutdownNow();
      throw e;
    }
  }

  /**
   * The mutual-TLS channel to the control plane named in desired.json (else host.json), built
   * on a thread of its own once {@link #start()} carried out what to run, or earlier when a call
   * needs it (a payload the launcher did not cache, the deployment's secrets): the TLS context
   * and the Netty channel were the longest part of an agent's start, and building them beside
   * the payload's verification and extraction slowed those on a busy host. A channel that cannot
   * be built is logged and fails every call that uses it.
   */
  static DeferredChannel openChannel(Path dataDir, String deployment) {
    return DeferredChannel.lazy(() -> {
      try {
        HostIdentityFiles identity = HostIdentityFiles.inDataDir(dataDir);
        HostIdentityFiles.HostInfo host = identity.readHostInfo().orElseThrow(() ->
            new IOException(identity.hostInfoFile() + " does not exist; enroll the launcher "
                + "first"));
        AgentDesired desired = AgentDesired.read(dataDir, deployment);
        String target = desired.controlPlane().isBlank() ? host.controlPlane()
            : desired.controlPlane();
        ControlPlaneChannel channel = ControlPlaneChannels.mutualTls(target, identity,
            ControlPlaneChannels.Settings.DEFAULTS);
        channel.addSwitchListener((now, was) -> LOG.log(System.Logger.Level.INFO,
            "connected to control plane " + now + was.map(w -> " (was " + w + ")").orElse("")));
        return channel;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e.getMessage(), e);
      }
    }, "agent-channel");
  }

  /** Starts reporting, then decides what to run and runs it (may block on the first fetch). */
  public void start() {
    timeline.ready(clock.instant());
    // Reporting starts once the channel is built, so no scheduler thread waits for it.
    reportingChannel.thenRun(() -> {
      if (!fetcher.isShutdown()) { // not closed meanwhile
        heartbeat.start();
        shipper.start();
      }
    });
    try {
      startDesired();
    } finally {
      if (ownedChannel instanceof DeferredChannel deferred) {
        deferred.buildNow(); // for the heartbeat, unless a fetch needed it already
      }
      startMetrics();
    }
  }

  private void startDesired() {
    Optional<StartPlan> early = StartPlan.beforeFetch(facts);
    StartPlan decided;
    if (early.isPresent()) {
      decided = early.get();
      supervisor.recordEvent(AgentEvent.Kind.PAYLOAD_REJECTED, "MARKED_BAD", "desired version "
          + desired.payload().sha256() + " was rolled back on this host and no retry was asked;"
          + " running " + decided.candidates().stream().findFirst().orElse("nothing"),
          desired.payload().sha256());
    } else {
      decided = StartPlan.afterFetch(factsNow(), fetchDesired());
      timeline.verified(clock.instant());
    }
    boolean handedOver = AgentHandover.requested(agentDir);
    if (handedOver) {
      // The previous agent left its services running for this one to replace (a new version
      // or a restart): the desired version replaces them, several cluster indexes one at a time.
      supervisor.replaceOnNextStart(desired.payload().sha256());
    }
    carryOut(decided);
    if (handedOver) {
      try {
        AgentHandover.clear(agentDir);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot remove " + agentDir.resolve(
            AgentHandover.FILE), e);
      }
    }
  }

  /** Makes the metrics and starts writing them (not after a close). */
  private void startMetrics() {
    AgentMetrics made = new AgentMetrics(agentDir.resolve(MetricsTextFiles.FILE_NAME),
        deployment, new AgentMetrics.Reporting() {
          @Override
          public boolean connected() {
            return heartbeat.isConnected();
          }

          @Override
          public int unackedEvents() {
            return heartbeat.pendingEvents();
          }
        });
    AgentMetricsWriter writer = new AgentMetricsWriter(made, supervisor::snapshot, scheduler,
        settings.heartbeatInterval());
    metrics.complete(made);
    if (!fetcher.isShutdown()) { // not closed meanwhile
      writer.start();
    }
    metricsWriter.complete(writer);
  }

  /**
   * SIGTERM from the launcher: the deployment is no longer wanted here, so its services are
   * stopped, a last heartbeat says so, and everything is let go. When the launcher asked for a
   * handover ({@link AgentHandover}: a new version or a restart), nothing is stopped and the
   * next agent takes the services over.
   */
  public void shutdown() {
    if (AgentHandover.requested(agentDir)) {
      // The launcher replaces this agent and the next one takes the services over: stop
      // nothing, let go (as close()), so they keep serving through the switch.
      LOG.log(System.Logger.Level.INFO, "handing the services of " + desired.deployment()
          + " over to the next agent");
      close();
      return;
    }
    supervisor.stop();
    if (secrets != null) {
      try {
        secrets.clear();
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot remove the secret files of "
            + desired.deployment(), e);
      }
    }
    close();
  }

  /**
   * Lets go without stopping services (as a killed agent would): the next agent over this
   * directory adopts them.
   */
  @Override
  public void close() {
    fetcher.shutdownNow();
    metricsWriter.thenAccept(AgentMetricsWriter::close);
    heartbeat.close();
    shipper.close();
    supervisor.close();
    if (ownedChannel != null) {
      ownedChannel.shutdownNow();
    }
  }

  public Supervisor supervisor() {
    return supervisor;
  }

  public AgentSnapshot snapshot() {
    return supervisor.snapshot();
  }

  /**
   * This agent's metrics, also written to {@code metrics.prom} in its directory; made once
   * {@link #start()} carried out what to run (waits for that).
   */
  public AgentMetrics metrics() {
    return metrics.join();
  }

  /** Events waiting for the control plane's ack (all of them while detached). */
  public List<io.infraveil.proto.v1.HostEvent> unackedEvents() {
    heartbeat.changed();
    return heartbeat.unackedEvents();
  }

  /** The latest plan, for status lines and tests. */
  public Optional<StartPlan> plan() {
    return Optional.ofNullable(plan);
  }

  // ---- internals ----

  private CacheResult.Status fetchDesired() {
    PayloadRef ref = desired.payload().toProto();
    // Only the launcher writes desired.json, and only it sets this: the control plane cannot
    // claim a fallback to get an older signed version past the replay check.
    CacheResult result = store.ensureCached(ref, desired.launcherFallback()
        ? PayloadOrigin.LAUNCHER_FALLBACK : PayloadOrigin.CONTROL_PLANE);
    switch (result.status()) {
      case CACHED -> {
        if (result.evicted() != null) {
          supervisor.recordEvent(AgentEvent.Kind.PAYLOAD_REJECTED, CACHE_ENTRY_EVICTED,
              result.evicted() + "; fetched again and verified", ref.getSha256());
        }
        try {
          known.remember(desired.payload());
        } catch (IOException e) {
          LOG.log(System.Logger.Level.WARNING, "cannot save " + KnownPayloads.FILE, e);
        }
      }
      case REJECTED -> supervisor.recordEvent(AgentEvent.Kind.PAYLOAD_REJECTED,
          result.reason().name(), result.message(), ref.getSha256());
      case UNAVAILABLE -> LOG.log(System.Logger.Level.WARNING, "payload " + ref.getSha256()
          + " unavailable: " + result.message());
      default -> throw new AssertionError("unhandled cache status " + result.status());
    }
    return result.status();
  }

  /**
   * Extraction found the cached bytes or the release dir altered: reported once, as the repair
   * happens once.
   */
  private void cacheEntryEvicted(String sha, String what) {
    supervisor.recordEvent(AgentEvent.Kind.PAYLOAD_REJECTED, CACHE_ENTRY_EVICTED, what, sha);
  }

  private StartPlan.Facts factsNow() {
    return new StartPlan.Facts(facts.desired(), facts.retryMarkedBad(), facts.markedBad(),
        facts.previouslyRunning(), facts.knownGood(), releases.isExtracted(facts.desired()));
  }

  private void carryOut(StartPlan decided) {
    plan = decided;
    allowed.addAll(decided.candidates());
    if (!tryCandidates(decided.candidates()) && decided.runsDesired()) {
      // The desired release itself was refused (a bad config.yaml): the supervisor reported it.
      StartPlan fallback = StartPlan.afterFetch(factsNow(), CacheResult.Status.REJECTED);
      plan = fallback;
      allowed.addAll(fallback.candidates());
      tryCandidates(fallback.candidates());
    }
    if (running == null) {
      LOG.log(System.Logger.Level.ERROR, "nothing can run for " + desired.deployment() + " ("
          + plan.reason() + "); staying up to report it");
    }
    if (plan.retryFetch()) {
      scheduleFetchRetry();
    } else if (running == null && secretsUnreachable()) {
      scheduleSecretsRetry();
    }
  }

  private boolean secretsUnreachable() {
    return secretsFetcher != null && secretsFetcher.unreachable();
  }

  /**
   * The desired version was refused only because its secrets could not be fetched (control
   * plane unreachable, nothing kept): try it again with backoff until they can.
   */
  private void scheduleSecretsRetry() {
    Duration delay = fetchBackoff.delay(fetchAttempt++);
    scheduler.schedule(() -> fetcher.execute(this::retrySecrets), delay.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private void retrySecrets() {
    if (running != null) {
      return;
    }
    String sha = desired.payload().sha256();
    StartResult result = supervisor.start(sha);
    if (result.outcome() != StartResult.Outcome.REJECTED) {
      running = sha;
      plan = new StartPlan(List.of(sha), StartPlan.Reason.DESIRED, false);
      LOG.log(System.Logger.Level.INFO, "running " + sha + " (" + result.outcome()
          + ", secrets fetched on retry)");
    } else if (secretsUnreachable()) {
      scheduleSecretsRetry();
    }
  }

  private boolean tryCandidates(List<String> candidates) {
    for (String sha : candidates) {
      StartResult result = supervisor.start(sha);
      if (result.outcome() != StartResult.Outcome.REJECTED) {
        running = sha;
        LOG.log(System.Logger.Level.INFO, "running " + sha + " (" + result.outcome() + ", "
            + plan.reason() + ")");
        return true;
      }
    }
    return false;
  }

  private void scheduleFetchRetry() {
    Duration delay = fetchBackoff.delay(fetchAttempt++);
    scheduler.schedule(() -> fetcher.execute(this::retryFetch), delay.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private void retryFetch() {
    CacheResult.Status status = fetchDesired();
    switch (status) {
      case CACHED -> {
        StartResult result = supervisor.start(desired.payload().sha256());
        if (result.outcome() != StartResult.Outcome.REJECTED) {
          running = desired.payload().sha256();
          plan = new StartPlan(List.of(running), StartPlan.Reason.DESIRED, false);
        }
      }
      case REJECTED -> plan = new StartPlan(plan.candidates(),
          StartPlan.Reason.PAYLOAD_REJECTED, false);
      case UNAVAILABLE -> scheduleFetchRetry();
      default -> throw new AssertionError("unhandled cache status " + status);
    }
  }

  private boolean isLastKnownGood(String sha) {
    return supervisor != null && supervisor.snapshot().lastKnownGood().map(sha::equals)
        .orElse(false);
  }

  private Optional<PayloadRef> payloadRef(String sha) {
    if (sha.equals(desired.payload().sha256())) {
      return Optional.of(desired.payload().toProto());
    }
    return known.get(sha);
  }

  /** What the heartbeat reports. */
  private final class Source implements HeartbeatClient.Source {
    @Override
    public AgentSnapshot snapshot() {
      return supervisor.snapshot();
    }

    @Override
    public List<AgentEvent> drainEvents() {
      List<AgentEvent> drained = supervisor.drainEvents();
      metrics.thenAccept(made -> made.recorded(drained)); // counted once the metrics exist
      return drained;
    }

    @Override
    public boolean isMarkedBad(String sha256) {
      return supervisor.isMarkedBad(sha256);
    }

    @Override
    public Optional<io.infraveil.proto.v1.DeployTimings> deployTimings(String running) {
      return timeline.timings(running);
    }

    @Override
    public Map<String, PayloadRef> payloads() {
      Map<String, PayloadRef> all = new java.util.HashMap<>(known.all());
      all.put(desired.payload().sha256(), desired.payload().toProto());
      return all;
    }
  }
}
