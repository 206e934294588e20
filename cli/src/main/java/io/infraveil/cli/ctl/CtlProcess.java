package io.infraveil.cli.ctl;

import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;

/**
 * Settings of a process that runs one {@code ctl} command: it makes a call or two and exits, and
 * its stdout is its answer. Applied by {@code Main.main} before any Netty or SLF4J class loads
 * (tests that run commands in their own JVM leave the JVM as it is). An explicit
 * {@code -D} on the command line wins.
 *
 * <ul>
 *   <li>Netty 4.2 registers its JFR events on first use, which starts the JDK's flight-recorder
 *       machinery and generates event classes at run time (about 130 classes, none of them
 *       archivable): off.
 *   <li>Logging: the classpath carries Logback and the control plane's logback.xml, whose set-up
 *       (an XML parse, about 400 classes) would run for the first library log call and write to
 *       stdout. ctl's own code logs nothing; Netty's warnings go to the JDK's logging (stderr)
 *       instead, and SLF4J gets its no-operation provider.
 * </ul>
 */
public final class CtlProcess {

  private CtlProcess() {}

  /** Applies the settings above; call first thing in a process that runs {@code ctl}. */
  public static void prepare() {
    setIfAbsent("io.netty.jfr.enabled", "false");
    setIfAbsent("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
    setIfAbsent("slf4j.internal.verbosity", "WARN");
    InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
