package io.infraveil.appconfig;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one duration grammar of every flag, config file key and {@code config.yaml} field:
 * {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d}, parts together
 * ({@code 1h30m}), a whole number of seconds ({@code 45}), or ISO-8601 ({@code PT30S}).
 * Never negative.
 */
public final class Durations {

  /** What an error says is accepted. */
  public static final String ACCEPTED_FORMS = "500ms, 30s, 5m, 1h, 2d, 1h30m, a whole number "
      + "of seconds, or ISO-8601 such as PT30S";

  private static final Pattern SECONDS = Pattern.compile("\\d{1,9}");
  private static final Pattern PART = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");

  private Durations() {}

  /** The duration the text names, or empty when it is not one of the accepted forms. */
  public static Optional<Duration> parse(String text) {
    String value = text.strip().toLowerCase(Locale.ROOT);
    if (value.isEmpty()) {
      return Optional.empty();
    }
    if (SECONDS.matcher(value).matches()) {
      return Optional.of(Duration.ofSeconds(Long.parseLong(value)));
    }
    if (value.startsWith("p")) {
      try {
        Duration iso = Duration.parse(value.toUpperCase(Locale.ROOT));
        return iso.isNegative() ? Optional.empty() : Optional.of(iso);
      } catch (DateTimeParseException e) {
        return Optional.empty();
      }
    }
    Matcher part = PART.matcher(value);
    Duration total = Duration.ZERO;
    int end = 0;
    while (part.find() && part.start() == end) {
      long amount = Long.parseLong(part.group(1));
      total = total.plus(switch (part.group(2)) {
        case "ms" -> Duration.ofMillis(amount);
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        case "h" -> Duration.ofHours(amount);
        case "d" -> Duration.ofDays(amount);
        default -> throw new AssertionError("unit " + part.group(2));
      });
      end = part.end();
    }
    return end == value.length() ? Optional.of(total) : Optional.empty();
  }

  /**
   * The duration the text names.
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  public static Duration parseOrThrow(String text) {
    return parse(text).orElseThrow(() -> new IllegalArgumentException(
        "\"" + text + "\" is not a duration: use " + ACCEPTED_FORMS));
  }

  /** The ISO-8601 form ({@code PT1H30M}), which every reader of durations understands. */
  public static String iso(Duration duration) {
    return duration.toString();
  }
}
