package io.infraveil.cli;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * Hands the rest of the command line to another program's {@code main}, found by name at run
 * time so that this module does not depend on those classes existing at compile time.
 */
abstract class DelegateCommand implements Callable<Integer> {

  @Parameters(arity = "0..*", paramLabel = "ARGS", description = "Arguments for the program.")
  List<String> args = new ArrayList<>();

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  abstract String mainClass();

  @Override
  public Integer call() throws Exception {
    int code = run(mainClass(), args.toArray(String[]::new), spec.commandLine().getErr());
    if (code == 0) {
      main.handOver();
    }
    return code;
  }

  /** Calls {@code className.main(args)}; 1 with a message when the class is not there. */
  static int run(String className, String[] args, PrintWriter err) throws Exception {
    Method entry;
    try {
      Class<?> type = Class.forName(className, true, DelegateCommand.class.getClassLoader());
      entry = type.getMethod("main", String[].class);
    } catch (ClassNotFoundException | NoSuchMethodException e) {
      err.println("error: " + className + " is not in this build (" + e.getClass().getSimpleName()
          + "); rebuild with `./mvnw -B -DskipTests install` and run again");
      return Main.EXIT_FAILED;
    }
    if (!Modifier.isStatic(entry.getModifiers())) {
      err.println("error: " + className + ".main is not static");
      return Main.EXIT_FAILED;
    }
    try {
      entry.invoke(null, (Object) args);
      return 0;
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }

  @Command(name = "launcher", mixinStandardHelpOptions = false,
      description = "Run the host daemon (one per host): [--config launcher.yaml] "
          + "[--data-dir DIR] ...; `launcher enroll --token T --name N --control-plane HOST:PORT"
          + " --ca FILE` enrolls first. `launcher --help` lists every option.")
  static final class Launcher extends DelegateCommand {
    @Override
    String mainClass() {
      return "io.infraveil.launcher.LauncherMain";
    }
  }

  @Command(name = "agent", mixinStandardHelpOptions = false,
      description = "Run a deployment's supervisor (started by the launcher, not by people).")
  static final class Agent extends DelegateCommand {
    @Override
    String mainClass() {
      return "io.infraveil.agent.main.AgentMain";
    }
  }
}
