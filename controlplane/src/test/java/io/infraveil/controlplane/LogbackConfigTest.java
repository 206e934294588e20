package io.infraveil.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import io.infraveil.logging.StructuredEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The control plane's logback.xml writes the one structured format, not a pattern of its own. */
class LogbackConfigTest {

  @Test
  void logbackXmlUsesTheStructuredEncoder() throws Exception {
    LoggerContext context = new LoggerContext();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(getClass().getResource("/logback.xml"));

    var appender = (OutputStreamAppender<ILoggingEvent>)
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("STDOUT");
    StructuredEncoder encoder = assertInstanceOf(StructuredEncoder.class, appender.getEncoder());
    LoggingEvent event = new LoggingEvent("x", context.getLogger("io.infraveil.controlplane.Incidents"),
        Level.WARN, "incident {} opened", null, new Object[] {"42"});
    event.setInstant(Instant.parse("2025-01-01T00:00:00Z"));

    assertEquals("ts=2025-01-01T00:00:00Z level=WARN program=controlplane logger=Incidents"
        + " msg=\"incident 42 opened\"\n",
        new String(encoder.encode(event), StandardCharsets.UTF_8));
    assertEquals(Level.WARN, context.getLogger("io.grpc").getLevel());
    context.stop();
  }

  /** Logback's own start-up reads this logback.xml before infraveil-logging's default. */
  @Test
  void logbackXmlWinsOverTheDefaultConfiguration() throws Exception {
    LoggerContext context = new LoggerContext();
    new ch.qos.logback.classic.util.ContextInitializer(context).autoConfig();
    assertInstanceOf(OutputStreamAppender.class,
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("STDOUT"));
    context.stop();
  }
}
