package io.infraveil.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.infraveil.cli.ctl.CtlProcess;
import io.infraveil.host.options.ConfigFileException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code bin/infraveil}: one entry point for the PKI, the three programs and the operator
 * client. Exit codes: 0 success, 1 refused or failed, 2 usage error.
 */
@Command(
    name = "infraveil",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Deploys and supervises services on servers you own.")
// Subcommands: CommandTree.ROOT_COMMANDS (added there, only the branch a command line names).
public final class Main implements Runnable {

  /** Exit code of a refused call, a failed command or a missing file. */
  public static final int EXIT_FAILED = 1;
  /** Exit code of a command line that cannot be understood. */
  public static final int EXIT_USAGE = 2;

  private final Map<String, String> env;
  private boolean handedOver;

  @Spec CommandSpec spec;

  public Main(Map<String, String> env) {
    this.env = Map.copyOf(Objects.requireNonNull(env, "env"));
  }

  public static void main(String[] args) {
    StartupTrace.mark("main");
    if (args.length > 0 && args[0].equals("ctl")) {
      CtlProcess.prepare();
    }
    Main main = new Main(System.getenv());
    int code = main.execute(args, System.out, System.err);
    StartupTrace.mark("printed");
    StartupTrace.print(System.err);
    if (code == 0 && main.handedOver) {
      // The launcher or agent main returned with its own threads still running: let them run.
      return;
    }
    System.exit(code);
  }

  /** Runs one command line; tests call this with their own streams and environment. */
  public int execute(String[] args, PrintStream out, PrintStream err) {
    PrintWriter outWriter = new PrintWriter(out, true, StandardCharsets.UTF_8);
    PrintWriter errWriter = new PrintWriter(err, true, StandardCharsets.UTF_8);
    CommandLine commandLine = CommandTree.build(this, args)
        .setOut(outWriter)
        .setErr(errWriter)
        .setExecutionExceptionHandler((e, line, parseResult) -> report(e, line.getErr()));
    // Everything after `launcher` / `agent` belongs to that program, options included.
    for (String program : new String[] {"launcher", "agent"}) {
      CommandLine delegate = commandLine.getSubcommands().get(program);
      if (delegate != null) {
        delegate.setUnmatchedOptionsArePositionalParams(true);
      }
    }
    try {
      return commandLine.execute(args);
    } finally {
      outWriter.flush();
      errWriter.flush();
    }
  }

  /** The environment this command line runs with (INFRAVEIL_CONTEXT and friends). */
  public Map<String, String> env() {
    return env;
  }

  /** Marks that control went to another program's main, which may keep threads running. */
  void handOver() {
    handedOver = true;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
  }

  /** Turns an exception from a command into one message on stderr and an exit code. */
  static int report(Exception e, PrintWriter err) {
    if (e instanceof ConfigFileException bad) {
      err.println("error: " + bad.getMessage());
      return EXIT_USAGE;
    }
    if (e instanceof CliException cli) {
      err.println("error: " + cli.getMessage());
      return cli.exitCode();
    }
    if (e instanceof StatusRuntimeException refused) {
      Status status = refused.getStatus();
      err.println("error: " + status.getCode() + ": "
          + (status.getDescription() == null ? "(no description)" : status.getDescription()));
      if (status.getCause() != null) {
        err.println("  cause: " + status.getCause());
      }
      String hint = hint(status.getCode());
      if (hint != null) {
        err.println("  " + hint);
      }
      return EXIT_FAILED;
    }
    if (e instanceof IOException || e instanceof UncheckedIOException
        || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
      err.println("error: " + e.getMessage());
      return EXIT_FAILED;
    }
    err.println("error: " + e);
    e.printStackTrace(err);
    return EXIT_FAILED;
  }

  private static String hint(Status.Code code) {
    return switch (code) {
      case UNIMPLEMENTED -> "the control plane does not offer this call yet";
      case UNAVAILABLE -> "cannot reach the control plane, or the TLS handshake failed: check the "
          + "endpoint, that the CA is the control plane's, and that your certificate is valid "
          + "and not revoked";
      case UNAUTHENTICATED -> "the control plane did not get a client certificate it accepts";
      case PERMISSION_DENIED -> "your identity is not allowed to make this call";
      case DEADLINE_EXCEEDED -> "the control plane did not answer in time";
      default -> null;
    };
  }

  /** Version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Main.class.getPackage().getImplementationVersion();
      return new String[] {"infraveil " + (version == null ? "(development build)" : version)};
    }
  }
}
