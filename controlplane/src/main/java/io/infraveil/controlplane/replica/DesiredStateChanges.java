package io.infraveil.controlplane.replica;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The change-log rows of one fan-out ({@link ChangeKind#DESIRED_STATES}): each row names as many
 * hosts with their new revision as its detail column holds ({@code host:revision} separated by
 * commas; host names hold neither), so 10,000 hosts are about a hundred rows, not 10,000.
 */
final class DesiredStateChanges {

  /** The detail column's size (V13). */
  static final int MAX_DETAIL = 2000;

  private DesiredStateChanges() {}

  /** The rows naming every host of {@code revisions}, in its order. */
  static List<ChangeLog.Entry> encode(Map<String, Long> revisions) {
    List<ChangeLog.Entry> rows = new ArrayList<>();
    StringBuilder detail = new StringBuilder();
    int count = 0;
    for (var entry : revisions.entrySet()) {
      String item = entry.getKey() + ":" + entry.getValue();
      if (detail.length() > 0 && detail.length() + 1 + item.length() > MAX_DETAIL) {
        rows.add(new ChangeLog.Entry(count + " hosts", detail.toString()));
        detail.setLength(0);
        count = 0;
      }
      if (detail.length() > 0) {
        detail.append(',');
      }
      detail.append(item);
      count++;
    }
    if (count > 0) {
      rows.add(new ChangeLog.Entry(count + " hosts", detail.toString()));
    }
    return rows;
  }

  /** The hosts one row names, with the revision each was stored under. */
  static Map<String, Long> decode(Change change) {
    Map<String, Long> out = new LinkedHashMap<>();
    if (change.detail() == null || change.detail().isEmpty()) {
      return out;
    }
    for (String item : change.detail().split(",")) {
      int colon = item.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("change " + change.id() + " names \"" + item
            + "\", not host:revision");
      }
      out.put(item.substring(0, colon), Long.parseLong(item.substring(colon + 1)));
    }
    return out;
  }
}
