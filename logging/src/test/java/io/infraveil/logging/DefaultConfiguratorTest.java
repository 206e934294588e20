package io.infraveil.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.OutputStreamAppender;
import org.junit.jupiter.api.Test;

/** Without a logback.xml, Logback's own start-up picks the structured format at INFO. */
class DefaultConfiguratorTest {

  @Test
  void logbackAutoConfigurationUsesTheStructuredFormat() throws Exception {
    LoggerContext context = new LoggerContext();
    new ContextInitializer(context).autoConfig();

    var root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    assertEquals(Level.INFO, root.getLevel());
    assertEquals(Level.WARN, context.getLogger("io.netty").getLevel());
    var appenders = root.iteratorForAppenders();
    var appender = (OutputStreamAppender<?>) appenders.next();
    assertInstanceOf(StructuredEncoder.class, appender.getEncoder());
    context.stop();
  }
}
