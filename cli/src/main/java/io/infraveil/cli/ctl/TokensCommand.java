package io.infraveil.cli.ctl;

import io.infraveil.cli.CliException;
import io.infraveil.host.options.DurationConverter;
import io.infraveil.proto.v1.CreateApiTokenRequest;
import io.infraveil.proto.v1.CreateApiTokenResponse;
import io.infraveil.proto.v1.CreateJoinTokenRequest;
import io.infraveil.proto.v1.CreateJoinTokenResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code ctl tokens}: join tokens that enroll hosts, and API tokens for the HTTPS operations
 * API.
 */
@Command(name = "tokens", mixinStandardHelpOptions = true,
    description = "Make join tokens (hosts) and API tokens (the HTTPS operations API).",
    subcommands = {TokensCommand.Create.class, TokensCommand.CreateApi.class})
final class TokensCommand implements Runnable {

  @ParentCommand CtlCommand ctl;
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing command: create or create-api");
  }

  /** {@code ctl tokens create NAME}: a one-time, expiring token for one host name. */
  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create a one-time join token for host NAME (shown once).")
  static final class Create implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NAME", description = "Host name the token enrolls.")
    String hostName;

    @Option(names = "--ttl", paramLabel = "DURATION", converter = DurationConverter.class,
        description = "How long the token stays valid, e.g. 15m, 1h, 2d "
            + "(default: the control plane's, 1h).")
    Duration ttl;

    @Option(names = "--label", paramLabel = "KEY=VALUE",
        description = "Label given to the host when it enrolls (repeatable).")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--replace",
        description = "Let the token enroll NAME even though a host of that name still holds a live"
            + " certificate; enrolling revokes that certificate and cuts its streams off. Without it"
            + " such an enrollment is refused.")
    boolean replace;

    @ParentCommand TokensCommand tokens;

    @Override
    public Integer call() throws Exception {
      CtlCommand ctl = tokens.ctl;
      CreateJoinTokenRequest.Builder request = CreateJoinTokenRequest.newBuilder()
          .setHostName(hostName)
          .putAllLabels(labels)
          .setReplace(replace);
      if (ttl != null) {
        if (ttl.toSeconds() < 1) {
          throw CliException.usage("--ttl must be at least 1s, got " + ttl);
        }
        request.setTtlSeconds(ttl.toSeconds());
      }
      CtlContext context = ctl.context();
      try (Connection connection = Connection.open(context)) {
        CreateJoinTokenResponse response = connection.unary().createJoinToken(request.build());
        ctl.print(response, out -> {
          out.println("join token for host " + hostName + " (one use, expires "
              + Format.time(response.getExpiresAt()) + "):");
          out.println(response.getJoinToken());
          if (response.getReplace()) {
            out.println("it replaces the host now enrolled as " + hostName
                + ": enrolling revokes that host's certificate");
          }
          if (response.getSupersededTokens() > 0) {
            out.println(response.getSupersededTokens() + " older unused token(s) for " + hostName
                + " no longer work");
          }
          out.println();
          out.println("enroll the host with:");
          out.println("  infraveil launcher enroll --token " + response.getJoinToken() + " --name "
              + hostName + " --control-plane " + context.endpoint() + " --ca " + context.ca()
              + " --data-dir DIR");
          out.println("then run it with: infraveil launcher --data-dir DIR");
        });
      }
      return 0;
    }
  }

  /**
   * {@code ctl tokens create-api NAME}: a bearer token for {@code /client/api/operations} and
   * {@code /dashboard}, acting as operator NAME. Shown once; the control plane keeps only its
   * SHA-256.
   */
  @Command(name = "create-api", mixinStandardHelpOptions = true,
      description = "Create a bearer token for the HTTPS operations API and dashboard (shown once).")
  static final class CreateApi implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NAME",
        description = "Token name, shown as the operator identity it acts as.")
    String name;

    @Option(names = "--ttl", paramLabel = "DURATION", converter = DurationConverter.class,
        description = "How long the token stays valid, e.g. 8h, 24h, 30d "
            + "(default: the control plane's, 24h; at most 365d).")
    Duration ttl;

    @ParentCommand TokensCommand tokens;

    @Override
    public Integer call() throws Exception {
      CtlCommand ctl = tokens.ctl;
      CreateApiTokenRequest.Builder request = CreateApiTokenRequest.newBuilder().setName(name);
      if (ttl != null) {
        if (ttl.toSeconds() < 1) {
          throw CliException.usage("--ttl must be at least 1s, got " + ttl);
        }
        request.setTtlSeconds(ttl.toSeconds());
      }
      CtlContext context = ctl.context();
      try (Connection connection = Connection.open(context)) {
        CreateApiTokenResponse response = connection.unary().createApiToken(request.build());
        ctl.print(response, out -> {
          out.println("API token " + name + " (expires " + Format.time(response.getExpiresAt())
              + "; shown once, keep it secret):");
          out.println(response.getToken());
          out.println();
          out.println("read the operations API with:");
          out.println("  curl --cacert " + context.ca() + " -H \"Authorization: Bearer "
              + response.getToken() + "\" " + context.operationsUrl());
          out.println("the operator dashboard is " + context.http().resolve("/dashboard")
              + " (same header), the public status page " + context.http().resolve("/status"));
        });
      }
      return 0;
    }
  }
}
