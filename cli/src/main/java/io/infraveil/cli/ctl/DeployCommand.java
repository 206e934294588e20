package io.infraveil.cli.ctl;

import com.google.protobuf.ByteString;
import io.infraveil.cli.CliException;
import io.infraveil.cli.keys.PublisherKeyFile;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.payload.Sha256Hex;
import io.infraveil.payload.trust.PublisherSignatures;
import io.infraveil.proto.v1.Deployment;
import io.infraveil.proto.v1.ListDeploymentsRequest;
import io.infraveil.proto.v1.PublisherSignature;
import io.infraveil.proto.v1.PutDeploymentRequest;
import io.infraveil.proto.v1.PutDeploymentResponse;
import io.infraveil.proto.v1.UploadMetadata;
import io.infraveil.proto.v1.UploadPayloadResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
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
    Path archive;
    boolean packed = Files.isDirectory(source);
    if (packed) {
      archive = Files.createTempFile("infraveil-payload-", ".tar.gz");
      try (OutputStream out = Files.newOutputStream(archive)) {
        PayloadArchive.pack(source, out);
      } catch (Exception e) {
        Files.deleteIfExists(archive);
        throw e;
      }
    } else if (Files.isRegularFile(source)) {
      archive = source;
    } else {
      throw new CliException(source + " is neither a directory nor a .tar.gz file");
    }
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
          .setRetryMarkedBad(retryMarkedBad);
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
      if (packed) {
        Files.deleteIfExists(archive);
      }
    }
    return 0;
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
