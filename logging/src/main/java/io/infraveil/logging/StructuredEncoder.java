package io.infraveil.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.event.KeyValuePair;

/**
 * The one Logback encoder of every Infraveil program: each event becomes one {@link LogLine}.
 * SLF4J key-value pairs ({@code log.atInfo().addKeyValue("deployment", d)}) become fields of
 * their own. Settable from logback.xml: {@code <program>} and {@code <format>} (LOGFMT, JSON).
 */
public final class StructuredEncoder extends EncoderBase<ILoggingEvent> {

  private static final byte[] NOTHING = new byte[0];

  private volatile LogFormat format = LogFormat.LOGFMT;
  private volatile Map<String, String> staticFields = Map.of("program", "infraveil");

  public void setFormat(LogFormat format) {
    this.format = java.util.Objects.requireNonNull(format, "format");
  }

  /** The program's name, the first static field. */
  public void setProgram(String program) {
    Map<String, String> fields = new LinkedHashMap<>(staticFields);
    fields.put("program", program);
    this.staticFields = java.util.Collections.unmodifiableMap(fields);
  }

  /** Fields written on every line after the level, in order (program, deployment, ...). */
  public void setStaticFields(Map<String, String> fields) {
    this.staticFields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
  }

  @Override
  public byte[] headerBytes() {
    return NOTHING;
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    List<Map.Entry<String, ?>> pairs = new ArrayList<>();
    List<KeyValuePair> kvs = event.getKeyValuePairs();
    if (kvs != null) {
      for (KeyValuePair kv : kvs) {
        pairs.add(new AbstractMap.SimpleImmutableEntry<>(kv.key, kv.value));
      }
    }
    IThrowableProxy thrown = event.getThrowableProxy();
    String line = LogLine.render(format, event.getInstant(), event.getLevel().toString(),
        staticFields, shortName(event.getLoggerName()), event.getFormattedMessage(), pairs,
        thrown == null ? null : thrown.getClassName() + ": " + thrown.getMessage(),
        thrown == null ? null : ThrowableProxyUtil.asString(thrown));
    return (line + "\n").getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public byte[] footerBytes() {
    return NOTHING;
  }

  private static String shortName(String logger) {
    return logger == null ? "" : logger.substring(logger.lastIndexOf('.') + 1);
  }
}
