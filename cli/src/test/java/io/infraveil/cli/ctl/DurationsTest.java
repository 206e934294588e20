package io.infraveil.cli.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** --ttl accepts what people type and refuses anything else. */
class DurationsTest {

  @Test
  void parsesUnitsAndCombinations() {
    assertEquals(Duration.ofSeconds(90), Durations.parse("90s"));
    assertEquals(Duration.ofMinutes(15), Durations.parse("15m"));
    assertEquals(Duration.ofMinutes(90), Durations.parse("1h30m"));
    assertEquals(Duration.ofDays(2), Durations.parse("2d"));
    assertEquals(Duration.ofMillis(250), Durations.parse("250ms"));
    assertEquals(Duration.ofHours(1), Durations.parse("PT1H"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "1", "h", "1x", "1h 30m", "-1h", "1h30", "P1Q"})
  void refusesOtherText(String text) {
    assertThrows(RuntimeException.class, () -> Durations.parse(text));
  }
}
