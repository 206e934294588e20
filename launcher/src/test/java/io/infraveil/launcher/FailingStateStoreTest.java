package io.infraveil.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class FailingStateStoreTest {

  @Test
  void everyCallFailsWithAnIoError() {
    FailingStateStore store = new FailingStateStore();
    assertEquals("state store unavailable: reads fail",
        assertThrows(IOException.class, store::load).getMessage());
    assertEquals("state store unavailable: writes fail",
        assertThrows(IOException.class, () -> store.save(LauncherState.EMPTY)).getMessage());
  }
}
