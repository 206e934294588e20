package io.infraveil.cli.ctl;

import com.google.protobuf.ByteString;
import io.infraveil.appconfig.AppConfigParser;
import io.infraveil.appconfig.ConfigException;
import io.infraveil.appconfig.RolloutSpec;
import io.infraveil.cli.CliException;
import io.infraveil.cli.keys.PublisherKeyFile;
import io.infraveil.host.options.DurationConverter;
import io.infraveil.payload.Sha256Hex;
import io.infraveil.payload.trust.PublisherSignatures;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.ListDeploymentsRequest;
import io.infraveil.proto.v1.PublisherSignature;
import io.infraveil.proto.v1.PutDeploymentRequest;
import io.infraveil.proto.v1.PutDeploymentResponse;
import io.infraveil.proto.v1.RolloutStrategy;
import io.infraveil.proto.v1.UploadMetadata;
import io.infraveil.proto.v1.UploadPayloadResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ctl deploy DIR|TGZ --name N (--hosts a,b | --labels k=v) [--sign KEY]}: packs a
 * directory (or takes a {@code .tar.gz}), uploads it, signs (deployment, sequence, sha256) with
 * each publisher key given, then points the deployment at it.
 */
@Command(name = "deploy", mixinStandardHelpOptions = true,
    description = "Upload an application (directory with config.yaml, or .tar.gz) and deploy it.")
final class DeployCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DIR|TGZ",
      description = "Application directory (packed for you) or a .tar.gz of one.")
  Path source;

  @Option(names = "--name", required = true, paramLabel = "N", description = "Deployment name.")
  String name;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Targets targets;

  @Option(names = "--payload-version", paramLabel = "V",
      description = "Version label (default: the short hash).")
  String version = "";

  @Option(names = "--retry-marked-bad",
      description = "Run the version even on hosts that marked it bad.")
  boolean retryMarkedBad;

  @Option(names = "--sign", paramLabel = "KEY",
      description = "Sign (deployment, sequence, sha256) with this publisher private key (from "
          + "`infraveil keys create-publisher`); repeatable. The key never leaves this machine.")
  List<Path> signingKeys = new ArrayList<>();

  @Option(names = "--sequence", paramLabel = "N",
      description = "Sequence of this version (default: one above the deployment's current one). "
          + "Hosts with pinned keys refuse a sequence not above the highest they accepted.")
  long sequence;

  @Option(names = "--max-parallel", paramLabel = "K",
      description = "Hosts moved to the new version at a time (default 1, or config.yaml's rollout: block).")
  Integer maxParallel;

  @Option(names = "--canary", paramLabel = "C",
      description = "Hosts moved first, alone; the rest waits for `ctl promote` (default 0).")
  Integer canary;

  @Option(names = "--min-healthy-time", paramLabel = "D", converter = DurationConverter.class,
      description = "How long a moved host must run healthy to count as updated (default 10s).")
  Duration minHealthyTime;

  @Option(names = "--healthy-deadline", paramLabel = "D", converter = DurationConverter.class,
      description = "After this a moved host that is not healthy fails the rollout (default 5m).")
  Duration healthyDeadline;

  @Option(names = "--auto-promote", negatable = true,
      description = "Continue past healthy canaries without `ctl promote` (default off).")
  Boolean autoPromote;

  @Option(names = "--auto-revert", negatable = true,
      description = "On failure, put moved hosts back on the last version healthy everywhere (default on; "
          + "--no-auto-revert leaves them where they are).")
  Boolean autoRevert;

  @Option(names = "--wait",
      description = "Follow the rollout: exit 0 when it succeeded, 1 when it failed or was reverted, "
          + "2 on --timeout.")
  boolean await;

  @Option(names = "--timeout", paramLabel = "D", converter = DurationConverter.class, defaultValue = "15m",
      description = "How long --wait waits (default 15m).")
  Duration timeout;

  @ParentCommand CtlCommand ctl;

  /** Where the deployment goes: hosts by name, or by labels. */
  static final class Targets {
    @Option(names = "--hosts", required = true, split = ",", paramLabel = "a,b",
        description = "Host names.")
    List<String> hosts = new ArrayList<>();

    @Option(names = "--labels", required = true, split = ",", paramLabel = "k=v",
        description = "Host labels that must all match (one value per key).")
    List<String> labels = new ArrayList<>();
  }

  @Override
  public Integer call() throws Exception {
    // Read the keys first: a missing or broken key fails before anything is packed or uploaded.
    List<PublisherKeyFile> signers = signingKeys.stream().map(PublisherKeyFile::read).toList();
    if (sequence < 0) {
      throw CliException.usage("--sequence must be at least 1, got " + sequence);
    }
    PackedPayload packed = PackedPayload.of(source, "infraveil-payload-");
    Path archive = packed.archive();
    try (Connection connection = ctl.connect()) {
      // A selector no host can match is refused before anything is uploaded.
      Map<String, String> labels = LabelSelector.parse(targets.labels, LabelSelector.hostsOf(connection));
      UploadMetadata metadata = UploadMetadata.newBuilder()
          .setVersion(version)
          .setSourceName(source.getFileName().toString())
          .build();
      UploadPayloadResponse uploaded = PayloadUpload.upload(connection.async(), archive, metadata,
          Connection.UPLOAD_DEADLINE_SECONDS);
      String sha256 = uploaded.getPayload().getSha256();
      if (!signers.isEmpty()) {
        // Sign only what this machine hashed: a control plane that answered with another hash
        // would otherwise get the publisher's signature on a payload of its choosing.
        String local = sha256Of(archive);
        if (!local.equals(sha256)) {
          throw new CliException("the control plane answered the upload of " + source
              + " with sha256 " + sha256 + ", but the archive sent has sha256 " + local
              + "; nothing was signed or deployed: do not trust that control plane");
        }
      }
      PutDeploymentRequest.Builder request = PutDeploymentRequest.newBuilder()
          .setName(name)
          .setPayloadSha256(sha256)
          .addAllHosts(targets.hosts)
          .putAllLabels(labels)
          .setRetryMarkedBad(retryMarkedBad)
          .setRollout(strategy());
      if (!signers.isEmpty() || sequence > 0) {
        long signed = sequence > 0 ? sequence : nextSequence(connection);
        request.setSequence(signed);
        for (PublisherKeyFile signer : signers) {
          request.addSignatures(PublisherSignature.newBuilder()
              .setKeyId(signer.keyId())
              .setKeyName(signer.name())
              .setSignature(ByteString.copyFrom(
                  PublisherSignatures.sign(signer.privateKey(), name, signed, sha256))));
        }
      }
      PutDeploymentResponse deployed = connection.unary().putDeployment(request.build());
      if (await) {
        return waitForRollout(connection, uploaded, deployed);
      }
      if (ctl.json()) {
        ctl.printDocument("{\"upload\": " + CtlCommand.toJson(uploaded, false)
            + ",\n\"deployment\": " + CtlCommand.toJson(deployed, false) + "}");
      } else {
        PrintWriter out = ctl.out();
        out.println("uploaded " + source.getFileName() + ": " + Format.payload(uploaded.getPayload())
            + ", " + uploaded.getPayload().getSize() + " bytes"
            + (uploaded.getAlreadyStored() ? " (already stored)" : "")
            + ", services: " + String.join(", ", uploaded.getServicesList()));
        printDeployment(deployed.getDeployment(), out);
      }
      printWarnings(deployed.getWarningsList(), ctl.err());
    } finally {
      packed.close();
    }
    return 0;
  }

  /**
   * The strategy asked for: config.yaml's {@code rollout:} block (when DIR is a directory), with
   * each flag given on top. Unset fields keep the deployment's strategy on the control plane.
   */
  private RolloutStrategy strategy() {
    RolloutStrategy.Builder out = RolloutStrategy.newBuilder();
    Path config = source.resolve("config.yaml");
    if (Files.isDirectory(source) && Files.isRegularFile(config)) {
      try {
        RolloutSpec block = AppConfigParser.parse(config).rollout();
        block.maxParallel().ifPresent(out::setMaxParallel);
        block.canary().ifPresent(out::setCanary);
        block.minHealthyTime().ifPresent(d -> out.setMinHealthyTime(proto(d)));
        block.healthyDeadline().ifPresent(d -> out.setHealthyDeadline(proto(d)));
        block.autoPromote().ifPresent(out::setAutoPromote);
        block.autoRevert().ifPresent(out::setAutoRevert);
      } catch (ConfigException | IOException e) {
        // The upload checks config.yaml and refuses it with the same problems, file and line.
      }
    }
    if (maxParallel != null) {
      out.setMaxParallel(maxParallel);
    }
    if (canary != null) {
      out.setCanary(canary);
    }
    if (minHealthyTime != null) {
      out.setMinHealthyTime(proto(minHealthyTime));
    }
    if (healthyDeadline != null) {
      out.setHealthyDeadline(proto(healthyDeadline));
    }
    if (autoPromote != null) {
      out.setAutoPromote(autoPromote);
    }
    if (autoRevert != null) {
      out.setAutoRevert(autoRevert);
    }
    return out.build();
  }

  private static com.google.protobuf.Duration proto(Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  /** {@code --wait}: follows the rollout this deploy started; the exit code says how it ended. */
  private int waitForRollout(Connection connection, UploadPayloadResponse uploaded, PutDeploymentResponse deployed)
      throws InterruptedException {
    Deployment deployment = deployed.getDeployment();
    PrintWriter out = ctl.out();
    if (!ctl.json()) {
      out.println("uploaded " + source.getFileName() + ": " + Format.payload(uploaded.getPayload()));
      printDeployment(deployment, out);
      out.flush();
    }
    if (!deployment.hasRollout()) {
      out.println("nothing to roll out");
      out.flush();
      return 0;
    }
    RolloutProgress.Result result = new RolloutProgress(connection, ctl.json() ? new PrintWriter(
        OutputStream.nullOutputStream()) : out, System.console() != null)
        .await(name, deployment.getRollout().getId(), timeout);
    if (ctl.json() && result.rollout() != null) {
      out.println(CtlCommand.toJson(result.rollout(), false));
      out.flush();
    }
    switch (result.outcome()) {
      case SUCCEEDED -> {
        if (!ctl.json()) {
          out.println("rollout of " + deployment.getPayload().getVersion() + " succeeded on "
              + result.rollout().getHostsCount() + " hosts");
          out.flush();
        }
      }
      case FAILED -> RolloutProgress.printFailure(result.rollout(), ctl.err());
      case TIMED_OUT -> {
        ctl.err().println("timed out after " + timeout.toSeconds() + "s waiting for the rollout of " + name
            + "; it goes on: `infraveil ctl rollout status " + name + " --watch`");
        ctl.err().flush();
      }
      default -> throw new AssertionError(result.outcome());
    }
    return result.outcome().exitCode;
  }

  static String sha256Of(Path file) throws IOException {
    MessageDigest digest = Sha256Hex.newDigest();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[64 * 1024];
      for (int read; (read = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, read);
      }
    }
    return Sha256Hex.format(digest.digest());
  }

  /**
   * One above the deployment's current sequence. A control plane that lies here can only make
   * the publisher sign a sequence hosts refuse as old, never make an old version new.
   */
  private long nextSequence(Connection connection) {
    return connection.unary().listDeployments(ListDeploymentsRequest.getDefaultInstance())
        .getDeploymentsList().stream()
        .filter(deployment -> deployment.getName().equals(name))
        .mapToLong(deployment -> deployment.getPayload().getSequence() + 1)
        .findFirst().orElse(1);
  }

  /** Warnings go to stderr, one line each, so -o json stays parseable. */
  static void printWarnings(List<String> warnings, PrintWriter err) {
    warnings.forEach(warning -> err.println("warning: " + warning));
    err.flush();
  }

  static void printDeployment(Deployment deployment, PrintWriter out) {
    out.println("deployment " + deployment.getName() + ": " + Format.payload(deployment.getPayload())
        + ", generation " + deployment.getGeneration()
        + " (grows with each new version and restart; hosts restart the deployment when it changes)"
        + (deployment.getPaused() ? ", paused" : ""));
    if (deployment.hasRollout()) {
      var s = deployment.getRollout().getStrategy();
      out.println("  rollout:   " + Format.enumName(deployment.getRollout().getState()) + ", "
          + deployment.getRollout().getBatches() + " batches (max_parallel " + s.getMaxParallel()
          + ", canary " + s.getCanary() + (s.getAutoPromote() ? ", auto_promote" : "")
          + (s.getAutoRevert() ? ", auto_revert" : ", no auto_revert") + "); `infraveil ctl rollout status "
          + deployment.getName() + "` follows it");
    }
    out.println("  placed on: " + (deployment.getPlacedHostsCount() == 0 ? "no host yet"
        : String.join(", ", deployment.getPlacedHostsList())));
    out.println("  sequence:  " + deployment.getPayload().getSequence() + ", "
        + (deployment.getSignaturesCount() == 0 ? "unsigned"
            : "signed by " + Format.signers(deployment.getSignaturesList())));
    if (deployment.hasPreviousPayload()) {
      out.println("  previous:  " + Format.payload(deployment.getPreviousPayload()));
    }
  }
}
