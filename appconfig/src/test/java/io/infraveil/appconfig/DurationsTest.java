package io.infraveil.appconfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The one duration grammar: short units, their sums, whole seconds and ISO-8601. */
class DurationsTest {

  // Accepted forms map to exact durations; anything else is empty.
  @ParameterizedTest
  @CsvSource({"500ms,PT0.5S", "30s,PT30S", "2m,PT2M", "5m,PT5M", "1h,PT1H", "2d,PT48H",
      "1h30m,PT1H30M", "1m30s500ms,PT1M30.5S", "45,PT45S", "' 3s ',PT3S", "0,PT0S",
      "PT30S,PT30S", "pt5m,PT5M", "P1DT2H,PT26H", "PT0.25S,PT0.25S"})
  void parsesAcceptedForms(String text, String expected) {
    assertEquals(Optional.of(Duration.parse(expected)), Durations.parse(text));
  }

  @ParameterizedTest
  @CsvSource({"-1s", "1.5s", "s", "''", "10 s", "1234567890s", "PT-5S", "1w", "1h 30m", "P",
      "30sec", "h1"})
  void rejectsOtherForms(String text) {
    assertEquals(Optional.empty(), Durations.parse(text));
  }

  @Test
  void errorNamesTheTextAndTheAcceptedForms() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> Durations.parseOrThrow("5 minutes"));
    assertEquals("\"5 minutes\" is not a duration: use " + Durations.ACCEPTED_FORMS,
        error.getMessage());
    assertTrue(error.getMessage().contains("PT30S"), error.getMessage());
  }
}
