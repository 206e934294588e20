package io.infraveil.cli.ctl;

import io.infraveil.appconfig.AppConfig;
import io.infraveil.appconfig.AppConfigParser;
import io.infraveil.appconfig.ConfigException;
import io.infraveil.cli.CliException;
import io.infraveil.payload.archive.ExtractionLimits;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.proto.v1.PayloadRef;
import io.infraveil.proto.v1.PlanDeploymentRequest;
import io.infraveil.proto.v1.PlanDeploymentResponse;
import io.infraveil.proto.v1.PlannedBatch;
import io.infraveil.proto.v1.PlannedHost;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ctl plan DIR|TGZ --name N (--hosts | --labels) [--max-parallel K] [--canary C]}: what
 * {@code deploy} would do, changing nothing. The application is packed and hashed here exactly
 * as deploy packs it (packing is deterministic), and only its digest, version label and
 * {@code instances} go to the control plane: nothing is uploaded, stored or pushed.
 */
@Command(name = "plan", mixinStandardHelpOptions = true,
    description = "Show what deploy would do (placed hosts, old -> new version per host, batches, the "
        + "config each host gets, warnings) without changing anything. Exit 0 planned (warnings "
        + "included), 1 refused (such as an unknown host), 2 usage error.")
final class PlanCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DIR|TGZ",
      description = "Application directory (packed as deploy packs it) or a .tar.gz of one.")
  Path source;

  @Option(names = "--name", required = true, paramLabel = "N", description = "Deployment name.")
  String name;

  @ArgGroup(exclusive = true, multiplicity = "1")
  DeployCommand.Targets targets;

  @Option(names = "--payload-version", paramLabel = "V",
      description = "Version label deploy would give (default: the stored label, else the short hash).")
  String version = "";

  @Option(names = "--max-parallel", paramLabel = "K", description = "Hosts updated at a time (default 1).")
  int maxParallel;

  @Option(names = "--canary", paramLabel = "C", description = "Hosts updated first, as canaries (default 0).")
  int canary;

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    if (maxParallel < 0 || canary < 0) {
      throw CliException.usage("--max-parallel and --canary must not be negative");
    }
    PackedPayload packed = PackedPayload.of(source, "infraveil-plan-");
    Path archive = packed.archive();
    try {
      byte[] configYaml;
      try (InputStream in = Files.newInputStream(archive)) {
        configYaml = PayloadArchive.check(in, ExtractionLimits.DEFAULT);
      }
      AppConfig config;
      try {
        config = AppConfigParser.parse(PayloadArchive.CONFIG_YAML, configYaml);
      } catch (ConfigException e) {
        throw new CliException("a deploy of " + source + " would be refused: " + e.getMessage());
      }
      Map<String, Integer> instances = new LinkedHashMap<>();
      config.services().forEach((service, spec) -> instances.put(service, spec.instances()));
      String sha256 = DeployCommand.sha256Of(archive);
      try (Connection connection = ctl.connect()) {
        Map<String, String> labels = LabelSelector.parse(targets.labels, LabelSelector.hostsOf(connection));
        PlanDeploymentResponse plan = connection.unary().planDeployment(PlanDeploymentRequest.newBuilder()
            .setName(name)
            .setPayloadSha256(sha256)
            .setVersion(version)
            .addAllHosts(targets.hosts)
            .putAllLabels(labels)
            .putAllInstancesByService(instances)
            .setMaxParallel(maxParallel)
            .setCanary(canary)
            .build());
        ctl.print(plan, out -> print(plan, configYaml, maxParallel, canary, out));
        DeployCommand.printWarnings(plan.getWarningsList(), ctl.err());
      }
    } finally {
      packed.close();
    }
    return 0;
  }

  static void print(PlanDeploymentResponse plan, byte[] configYaml, int maxParallel, int canary, PrintWriter out) {
    PayloadRef to = plan.getHostsList().stream().filter(PlannedHost::hasTo).map(PlannedHost::getTo)
        .findFirst().orElse(PayloadRef.getDefaultInstance());
    out.println("plan for " + plan.getName() + (plan.getExists() ? "" : " (new deployment)") + ": "
        + Format.payload(to) + (plan.getPayloadStored() ? ", already stored" : ", not uploaded yet (deploy uploads it)"));
    out.println("  instances:  " + plan.getInstances() + " (hosts wanted: the largest `instances` among the services)");
    out.println("  generation: " + plan.getGeneration() + " after the deploy (grows with each new version and restart)");
    Table hosts = new Table("HOST", "CHANGE", "FROM", "TO", "LABELS");
    for (PlannedHost host : plan.getHostsList()) {
      hosts.row(host.getHostName(), Format.enumName(host.getChange()),
          host.hasFrom() ? Format.payload(host.getFrom()) : "-", host.hasTo() ? Format.payload(host.getTo()) : "-",
          Format.labels(host.getLabelsMap()));
    }
    hosts.print(out, "no host");
    out.println("batches (max-parallel " + (maxParallel == 0 ? 1 : maxParallel) + ", canary " + canary + "):");
    if (plan.getBatchesCount() == 0) {
      out.println("  none: every placed host already runs this version");
    }
    for (PlannedBatch batch : plan.getBatchesList()) {
      out.println("  " + batch.getNumber() + (batch.getCanary() ? " (canary)" : "") + ": "
          + String.join(", ", batch.getHostNamesList()));
    }
    String base = PerHostConfig.forHost(configYaml, Map.of());
    out.println("config.yaml per host:");
    for (PlannedHost host : plan.getHostsList()) {
      if (!host.hasTo()) {
        continue;
      }
      String merged = PerHostConfig.forHost(configYaml, host.getLabelsMap());
      out.println("  " + host.getHostName() + ": " + (merged.equals(base) ? "the base config.yaml" : "merged:"));
      if (!merged.equals(base)) {
        merged.lines().forEach(line -> out.println("    " + line));
      }
    }
    out.println("base config.yaml:");
    base.lines().forEach(line -> out.println("    " + line));
    out.println("nothing was changed (`infraveil ctl deploy` with the same arguments does it)");
  }
}
