package io.infraveil.cli;

/** A failure the user can act on: its message is printed as is, without a stack trace. */
public final class CliException extends RuntimeException {

  private final int exitCode;

  public CliException(String message) {
    this(Main.EXIT_FAILED, message);
  }

  public CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  /** A command line that cannot work as given (exit code 2). */
  public static CliException usage(String message) {
    return new CliException(Main.EXIT_USAGE, message);
  }

  public int exitCode() {
    return exitCode;
  }
}
