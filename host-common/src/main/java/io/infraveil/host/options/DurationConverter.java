package io.infraveil.host.options;

import io.infraveil.appconfig.Durations;
import java.time.Duration;
import picocli.CommandLine;

/** The picocli converter of every duration flag of every program ({@link Durations}' grammar). */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

  @Override
  public Duration convert(String value) {
    return Durations.parse(value).orElseThrow(() -> new CommandLine.TypeConversionException(
        "\"" + value + "\" is not a duration: use " + Durations.ACCEPTED_FORMS));
  }
}
