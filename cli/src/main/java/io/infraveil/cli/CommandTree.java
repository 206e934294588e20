package io.infraveil.cli;

import io.infraveil.cli.ctl.CtlCommand;
import io.infraveil.cli.keys.KeysCommand;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The picocli command tree of {@code bin/infraveil}. picocli reflects over every command class of
 * a tree when the tree is built (options, parameters, nested commands), and its own classes are
 * of a class-file version that the JVM's class-data archive cannot hold: built whole, that was
 * about a quarter of a {@code ctl status} run. So a command line that names its command builds
 * only that branch: {@code infraveil ctl status ...} gets the root, {@code ctl} and
 * {@code status}, each with all its options, and parses exactly as with the whole tree (picocli
 * only ever descends into the subcommand named). Anything else (no command, an option first, an
 * unknown name, {@code help}, {@code completion}) gets the whole tree, as do help and docs.
 */
final class CommandTree {

  /** The root's commands, in the order help lists them. */
  static final List<Class<?>> ROOT_COMMANDS = List.of(
      CertsCommand.class,
      ControlPlaneCommand.class,
      DelegateCommand.Launcher.class,
      DelegateCommand.Agent.class,
      CtlCommand.class,
      KeysCommand.class,
      DevCommand.class,
      CompletionCommand.class,
      CommandLine.HelpCommand.class);

  /** Commands that look at the whole tree. */
  private static final List<String> NEED_WHOLE_TREE = List.of("help", "completion");

  private CommandTree() {}

  /** Every command: for help, completion and the documentation checks. */
  static CommandLine whole(Main main) {
    return build(main, new String[0]);
  }

  /** The branch {@code args} names, or the whole tree when they name none (see above). */
  static CommandLine build(Main main, String[] args) {
    CommandLine root = new CommandLine(main);
    String first = args.length > 0 ? args[0] : null;
    boolean pruned = first != null && !NEED_WHOLE_TREE.contains(first)
        && ROOT_COMMANDS.stream().anyMatch(type -> name(type).equals(first));
    for (Class<?> type : ROOT_COMMANDS) {
      if (pruned && !name(type).equals(first)) {
        continue;
      }
      if (type == CtlCommand.class) {
        root.addSubcommand(ctl(args.length > 1 && pruned ? args[1] : null));
      } else {
        root.addSubcommand(type);
      }
    }
    return root;
  }

  /** {@code ctl} with the subcommand named {@code second} only, or all when it names none. */
  private static CommandLine ctl(String second) {
    CommandLine ctl = new CommandLine(CtlCommand.class);
    boolean pruned = second != null
        && CtlCommand.SUBCOMMANDS.stream().anyMatch(type -> name(type).equals(second));
    for (Class<?> type : CtlCommand.SUBCOMMANDS) {
      if (!pruned || name(type).equals(second)) {
        ctl.addSubcommand(type);
      }
    }
    return ctl;
  }

  private static String name(Class<?> type) {
    return type.getAnnotation(Command.class).name();
  }
}
