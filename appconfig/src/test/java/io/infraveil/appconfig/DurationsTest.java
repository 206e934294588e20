package io.infraveil.appconfig;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DurationsTest {

  // Accepted forms map to exact durations; anything else is empty.
  @ParameterizedTest
  @CsvSource({"500ms,PT0.5S", "30s,PT30S", "2m,PT2M", "1h,PT1H", "45,PT45S", "' 3s ',PT3S",
      "0,PT0S"})
  void parsesAcceptedForms(String text, String expected) {
    assertEquals(Optional.of(Duration.parse(expected)), Durations.parse(text));
  }

  @ParameterizedTest
  @CsvSource({"1d", "-1s", "1.5s", "s", "''", "10 s", "1234567890s"})
  void rejectsOtherForms(String text) {
    assertEquals(Optional.empty(), Durations.parse(text));
  }
}
