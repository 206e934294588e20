package io.infraveil.cli.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infraveil.proto.v1.HostConnection;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** Columns line up; empty cells show "-"; an empty table prints its hint instead. */
class TableTest {

  private static String print(Table table) {
    StringWriter out = new StringWriter();
    PrintWriter writer = new PrintWriter(out);
    table.print(writer, "nothing here");
    writer.flush();
    return out.toString();
  }

  @Test
  void alignsColumns() {
    Table table = new Table("NAME", "STATE", "NOTE").row("web-1", "online", "").row("db", "offline", "x y");
    assertEquals("NAME   STATE    NOTE\nweb-1  online   -\ndb     offline  x y\n", print(table));
  }

  @Test
  void emptyTablePrintsHint() {
    assertEquals("nothing here\n", print(new Table("A", "B")));
  }

  @Test
  void enumNamesLoseTheirPrefix() {
    assertEquals("online", Format.enumName(HostConnection.HOST_CONNECTION_ONLINE));
  }
}
