package io.infraveil.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.jul.LevelChangePropagator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.util.FileSize;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Sets up logging for one Infraveil program, in code, from its command line: SLF4J through
 * Logback with the {@link StructuredEncoder}, {@code System.Logger} (through
 * slf4j-jdk-platform-logging) and {@code java.util.logging} (grpc-java, through jul-to-slf4j)
 * routed into it, so every line the program writes has the same shape. Libraries that talk a
 * lot are kept to warnings.
 */
public final class Logging {

  /** Where lines go. */
  public sealed interface Destination permits Console, RollingFile {}

  /** Standard output or standard error. */
  public record Console(boolean stderr) implements Destination {}

  /**
   * A file rotated by size: {@code file} is renamed to {@code file.1} (and older ones shifted up
   * to {@code file.<keep>}, the oldest dropped) once it reaches {@code maxBytes}. The check runs
   * on every line, so the file exceeds the limit by at most one line.
   */
  public record RollingFile(Path file, long maxBytes, int keep) implements Destination {
    public RollingFile {
      Objects.requireNonNull(file, "file");
      if (maxBytes < 1024) {
        throw new IllegalArgumentException("log file limit must be at least 1024 bytes, got "
            + maxBytes);
      }
      if (keep < 1 || keep > 20) {
        throw new IllegalArgumentException("rotated log files to keep must be 1 to 20, got "
            + keep);
      }
    }
  }

  /** Default size limit and number of rotated files for a program's own log file. */
  public static final long DEFAULT_MAX_BYTES = 10L * 1024 * 1024;
  public static final int DEFAULT_KEEP = 3;

  private static final Map<String, Level> QUIET = Map.of(
      "io.netty", Level.WARN, "io.grpc", Level.WARN, "org.flywaydb", Level.WARN,
      "com.zaxxer", Level.WARN, "io.micronaut", Level.WARN);

  private Logging() {}

  /**
   * Replaces whatever logging configuration the process has. {@code fields} are written on
   * every line after the level, {@code program} first.
   */
  public static void configure(String program, Map<String, String> fields, LogFormat format,
      Destination destination) {
    Objects.requireNonNull(program, "program");
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(destination, "destination");
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (!(factory instanceof LoggerContext context)) {
      throw new IllegalStateException("SLF4J is bound to " + factory.getClass().getName()
          + ", not Logback: remove the other SLF4J provider from the classpath");
    }
    context.reset();
    LevelChangePropagator propagator = new LevelChangePropagator();
    propagator.setContext(context);
    propagator.setResetJUL(true);
    propagator.start();
    context.addListener(propagator);
    Map<String, String> all = new LinkedHashMap<>();
    all.put("program", program);
    all.putAll(fields);
    setUp(context, all, format, destination);
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
  }

  /** The appender, encoder and levels on a context that has no appender yet. */
  static void setUp(LoggerContext context, Map<String, String> fields, LogFormat format,
      Destination destination) {
    StructuredEncoder encoder = new StructuredEncoder();
    encoder.setContext(context);
    encoder.setFormat(format);
    encoder.setStaticFields(fields);
    encoder.start();

    OutputStreamAppender<ILoggingEvent> appender = destination instanceof RollingFile file
        ? rolling(context, file) : console(context, (Console) destination);
    appender.setEncoder(encoder);
    appender.start();

    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    root.addAppender(appender);
    QUIET.forEach((name, level) -> context.getLogger(name).setLevel(level));
  }

  private static OutputStreamAppender<ILoggingEvent> console(LoggerContext context,
      Console console) {
    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(context);
    appender.setName("console");
    appender.setTarget(console.stderr() ? "System.err" : "System.out");
    return appender;
  }

  private static OutputStreamAppender<ILoggingEvent> rolling(LoggerContext context,
      RollingFile file) {
    String path = file.file().toAbsolutePath().toString();
    RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
    appender.setContext(context);
    appender.setName("file");
    appender.setFile(path);
    appender.setAppend(true);

    FixedWindowRollingPolicy rolling = new FixedWindowRollingPolicy();
    rolling.setContext(context);
    rolling.setParent(appender);
    rolling.setFileNamePattern(path.replace("%", "\\%") + ".%i");
    rolling.setMinIndex(1);
    rolling.setMaxIndex(file.keep());
    rolling.start();

    SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
    trigger.setContext(context);
    trigger.setMaxFileSize(new FileSize(file.maxBytes()));
    // Logback checks the size once a minute by default; a chatty minute could then grow the
    // file far past its limit. One stat per line is cheap next to the write itself.
    trigger.setCheckIncrement(ch.qos.logback.core.util.Duration.buildByMilliseconds(0));
    trigger.start();

    appender.setRollingPolicy(rolling);
    appender.setTriggeringPolicy(trigger);
    return appender;
  }
}
