package io.infraveil.cli.ctl;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.infraveil.cli.CliException;
import io.infraveil.cli.Main;
import io.infraveil.cli.StartupTrace;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code infraveil ctl}: the operator client. Every command opens one mTLS channel from the
 * context file, makes its calls and closes it. A refused call prints its status code and
 * description on stderr and exits 1.
 */
@Command(name = "ctl", mixinStandardHelpOptions = true,
    description = "Operate a running control plane over mTLS gRPC.")
// Subcommands: SUBCOMMANDS, added by the cli's CommandTree (only the one a command line names).
public final class CtlCommand implements Runnable {

  /** The operations, in the order help lists them. */
  public static final java.util.List<Class<?>> SUBCOMMANDS = java.util.List.of(
      HostsCommand.class,
      TokensCommand.class,
      RevokeCommand.class,
      DeployCommand.class,
      DeploymentsCommand.class,
      StatusCommand.class,
      IncidentsCommand.class,
      LogsCommand.class,
      RollbackCommand.class,
      PromoteCommand.class,
      RolloutCommand.class,
      HistoryCommand.class,
      WatchCommand.class,
      SecurityEventsCommand.class,
      SecretsCommand.class,
      PlanCommand.class,
      PauseCommand.class,
      ResumeCommand.class,
      RestartCommand.class,
      DeleteCommand.class,
      DashboardCommand.class);

  /** Output form: tables for people (wide adds columns), protobuf JSON or YAML for scripts. */
  enum Output { table, wide, json, yaml }

  @Option(names = "--context", paramLabel = "FILE", scope = ScopeType.INHERIT,
      description = "Context file (endpoint, ca, cert, key); default: $INFRAVEIL_CONTEXT.")
  Path contextFile;

  @Option(names = {"-o", "--output"}, paramLabel = "table|wide|json|yaml", scope = ScopeType.INHERIT,
      defaultValue = "table", description = "table for people (default), wide for a table with more columns,"
          + " json (protobuf JSON names) or yaml (the same document) for scripts.")
  Output output;

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing command");
  }

  /** The context from --context or INFRAVEIL_CONTEXT. */
  CtlContext context() throws IOException {
    StartupTrace.mark("parsed");
    Path file = contextFile;
    if (file == null) {
      String fromEnv = main.env().get(CtlContext.ENV);
      if (fromEnv == null || fromEnv.isBlank()) {
        throw CliException.usage("no context: pass --context FILE or set " + CtlContext.ENV
            + " (a file with endpoint, ca, cert and key)");
      }
      file = Path.of(fromEnv);
    }
    CtlContext context = CtlContext.load(file);
    StartupTrace.mark("context");
    return context;
  }

  Connection connect() throws IOException {
    return Connection.open(context());
  }

  /** True for json and yaml: the answer as a document, not a table. */
  boolean json() {
    return output == Output.json || output == Output.yaml;
  }

  boolean wide() {
    return output == Output.wide;
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** Prints a response: protobuf JSON with -o json, else the table {@code human} prints. */
  void print(MessageOrBuilder message, Consumer<PrintWriter> human) {
    print(message, human, human);
  }

  /** As {@link #print(MessageOrBuilder, Consumer)}, with a table of more columns for -o wide. */
  void print(MessageOrBuilder message, Consumer<PrintWriter> human, Consumer<PrintWriter> wideHuman) {
    if (json()) {
      printDocument(toJson(message, false));
    } else {
      (wide() ? wideHuman : human).accept(out());
    }
    out().flush();
  }

  /** A JSON document as is (-o json) or as YAML (-o yaml). */
  void printDocument(String json) {
    if (output == Output.yaml) {
      out().print(Yamls.fromJson(json));
    } else {
      out().println(json);
    }
    out().flush();
  }

  /** One message of a stream: a single JSON line with -o json, one YAML document each with -o yaml. */
  void printStreamed(MessageOrBuilder message, Consumer<PrintWriter> human) {
    if (output == Output.yaml) {
      out().print("---\n" + Yamls.fromJson(toJson(message, true)));
    } else if (json()) {
      out().println(toJson(message, true));
    } else {
      human.accept(out());
    }
    out().flush();
  }

  static String toJson(MessageOrBuilder message, boolean oneLine) {
    JsonFormat.Printer printer = JsonFormat.printer().includingDefaultValueFields();
    if (oneLine) {
      printer = printer.omittingInsignificantWhitespace();
    }
    try {
      return printer.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new UncheckedIOException(e);
    }
  }
}
