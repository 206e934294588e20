package io.infraveil.logging;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.Map;

/**
 * What Logback does when no logback.xml is on the classpath and before a program calls
 * {@link Logging#configure}: the structured format on stdout at INFO, libraries at WARN, in
 * place of Logback's own default (every library at DEBUG in another format). Logback runs the
 * configurators it finds as services before it looks for logback.xml, so this one steps aside
 * when a configuration file is given or on the classpath, and that file wins.
 */
@ConfiguratorRank(ConfiguratorRank.NOMINAL)
public final class DefaultConfigurator extends ContextAwareBase implements Configurator {

  /** System property naming the program on the lines written before it configures logging. */
  static final String PROGRAM_PROPERTY = "infraveil.program";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null
        || resource("logback-test.xml") || resource("logback.xml")) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    Logging.setUp(context, Map.of("program", System.getProperty(PROGRAM_PROPERTY, "infraveil")),
        LogFormat.LOGFMT, new Logging.Console(false));
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  private static boolean resource(String name) {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    if (loader == null) {
      loader = DefaultConfigurator.class.getClassLoader();
    }
    return loader.getResource(name) != null;
  }
}
