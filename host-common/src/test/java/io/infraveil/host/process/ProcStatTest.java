package io.infraveil.host.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ProcStatTest {

  /** A command name with spaces and parentheses does not shift the fields after it. */
  @Test
  void parsesFieldsAfterTheLastParenthesis() {
    ProcStat stat = ProcStat.parse("4242 (my (odd) name) S 1 4240 4239 0 -1 4194560 100 0 0 0 "
        + "5 3 0 0 20 0 1 0 987654 12345678 300 18446744073709551615\n");
    assertEquals(new ProcStat(4242, 'S', 4240, 4239, 987654), stat);
  }

  @Test
  void readsTheLiveProcess() {
    long self = ProcessHandle.current().pid();
    ProcStat stat = ProcStat.read(self).orElseThrow();
    assertEquals(self, stat.pid());
    assertTrue(stat.startTicks() > 0);
    assertEquals(stat.startTicks(), ProcStat.startTicksOf(self).orElseThrow());
  }

  @Test
  void goneProcessIsEmpty() {
    assertTrue(ProcStat.read(Long.MAX_VALUE).isEmpty());
    assertTrue(ProcStat.read(0).isEmpty());
  }

  @Test
  void refusesTruncatedLine() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ProcStat.parse("42 (x) S 1 42 42"));
    assertEquals("stat line of pid 42 has only 6 fields, expected at least 22", e.getMessage());
  }
}
