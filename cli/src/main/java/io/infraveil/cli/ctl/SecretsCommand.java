package io.infraveil.cli.ctl;

import com.google.protobuf.ByteString;
import io.infraveil.cli.CliException;
import io.infraveil.proto.v1.DeleteSecretRequest;
import io.infraveil.proto.v1.DeleteSecretResponse;
import io.infraveil.proto.v1.ListSecretsRequest;
import io.infraveil.proto.v1.ListSecretsResponse;
import io.infraveil.proto.v1.SetSecretRequest;
import io.infraveil.proto.v1.SetSecretResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code ctl secrets}: set, list and delete a deployment's secrets. A value goes in from a file
 * or stdin, never from the command line (where shell history and {@code ps} would keep it),
 * and never comes back out: listing shows names, versions and who set them when.
 */
@Command(name = "secrets", mixinStandardHelpOptions = true,
    description = "Set, list and delete a deployment's secrets (values are never shown).",
    subcommands = {SecretsCommand.Set.class, SecretsCommand.ListSecrets.class,
        SecretsCommand.Delete.class})
final class SecretsCommand implements Runnable {

  /** Largest value the control plane accepts. */
  static final int MAX_VALUE_BYTES = 64 * 1024;

  @ParentCommand CtlCommand ctl;
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
        "missing command: set, list or delete");
  }

  /** Where a value comes from: exactly one of a file or stdin. */
  static final class ValueSource {
    @Option(names = "--from-file", paramLabel = "FILE", required = true,
        description = "Read the value from FILE (its bytes exactly, a trailing newline included).")
    Path file;

    @Option(names = "--from-stdin", required = true,
        description = "Read the value from standard input until it ends.")
    boolean stdin;
  }

  /** {@code ctl secrets set DEPLOYMENT NAME (--from-file F | --from-stdin)}. */
  @Command(name = "set", mixinStandardHelpOptions = true,
      description = "Store a new version of secret NAME of DEPLOYMENT; the deployment restarts"
          + " on its hosts to pick it up.")
  static final class Set implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DEPLOYMENT", description = "Deployment name.")
    String deployment;

    @Parameters(index = "1", paramLabel = "NAME", description = "Secret name, as config.yaml's"
        + " secrets: entries name it.")
    String name;

    @ArgGroup(exclusive = true, multiplicity = "1")
    ValueSource source;

    @ParentCommand SecretsCommand secrets;

    @Override
    public Integer call() throws Exception {
      byte[] value = source.stdin ? readLimited(System.in, "standard input") : readFile(source.file);
      SetSecretResponse response;
      try (Connection connection = secrets.ctl.connect()) {
        response = connection.secrets().setSecret(SetSecretRequest.newBuilder()
            .setDeployment(deployment).setName(name).setValue(ByteString.copyFrom(value)).build());
      } finally {
        Arrays.fill(value, (byte) 0);
      }
      secrets.ctl.print(response, out -> {
        out.println("secret " + name + " of deployment " + deployment + " set to version "
            + response.getSecret().getVersion());
        out.println(response.getRestarted()
            ? "deployment " + deployment + " restarts on its hosts to pick it up"
            : "deployment " + deployment + " does not exist yet; it gets the value when it is"
                + " deployed");
      });
      return 0;
    }

    private static byte[] readFile(Path file) throws IOException {
      try (InputStream in = Files.newInputStream(file)) {
        return readLimited(in, file.toString());
      } catch (NoSuchFileException e) {
        throw CliException.usage("--from-file " + file + ": no such file");
      }
    }

    private static byte[] readLimited(InputStream in, String what) throws IOException {
      byte[] value = in.readNBytes(MAX_VALUE_BYTES + 1);
      if (value.length > MAX_VALUE_BYTES) {
        Arrays.fill(value, (byte) 0);
        throw CliException.usage(what + " holds more than " + MAX_VALUE_BYTES
            + " bytes, the largest secret value; nothing was sent");
      }
      if (value.length == 0) {
        throw CliException.usage(what + " is empty; a secret needs a value");
      }
      return value;
    }
  }

  /** {@code ctl secrets list DEPLOYMENT}: names, versions, who set them and when. */
  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List the secrets of DEPLOYMENT: names and versions, never values.")
  static final class ListSecrets implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DEPLOYMENT", description = "Deployment name.")
    String deployment;

    @ParentCommand SecretsCommand secrets;

    @Override
    public Integer call() throws Exception {
      try (Connection connection = secrets.ctl.connect()) {
        ListSecretsResponse response = connection.secrets().listSecrets(
            ListSecretsRequest.newBuilder().setDeployment(deployment).build());
        secrets.ctl.print(response, out -> {
          Table table = new Table("NAME", "VERSION", "SET AT", "SET BY");
          response.getSecretsList().forEach(s -> table.row(s.getName(), s.getVersion(),
              Format.time(s.getSetAt()), s.getSetBy()));
          table.print(out, "no secrets for deployment " + deployment);
        });
      }
      return 0;
    }
  }

  /** {@code ctl secrets delete DEPLOYMENT NAME}. */
  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Forget secret NAME of DEPLOYMENT; services that name it fail their next"
          + " start until it is set again.")
  static final class Delete implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DEPLOYMENT", description = "Deployment name.")
    String deployment;

    @Parameters(index = "1", paramLabel = "NAME", description = "Secret name.")
    String name;

    @ParentCommand SecretsCommand secrets;

    @Override
    public Integer call() throws Exception {
      try (Connection connection = secrets.ctl.connect()) {
        DeleteSecretResponse response = connection.secrets().deleteSecret(
            DeleteSecretRequest.newBuilder().setDeployment(deployment).setName(name).build());
        secrets.ctl.print(response, out -> out.println(response.getDeleted()
            ? "secret " + name + " of deployment " + deployment + " deleted"
            : "deployment " + deployment + " has no secret " + name));
      }
      return 0;
    }
  }
}
