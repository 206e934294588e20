package io.infraveil.host.options;

import java.util.Collection;

/** The known name nearest to a mistyped one (edit distance), for "did you mean" hints. */
final class Suggestions {

  private Suggestions() {}

  /**
   * A known name that starts the given one or that it starts, else the nearest within a third
   * of the name's length (at least 2), or null.
   */
  static String nearest(String name, Collection<String> known) {
    for (String candidate : known) {
      if (candidate.length() >= 4 && (name.startsWith(candidate) || candidate.startsWith(name))) {
        return candidate;
      }
    }
    String best = null;
    int bestDistance = Math.max(2, name.length() / 3) + 1;
    for (String candidate : known) {
      int distance = distance(name, candidate);
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    return best;
  }

  /** Levenshtein distance, with '_' and '-' taken as the same character. */
  static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = same(a.charAt(i - 1), b.charAt(j - 1)) ? 0 : 1;
        current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1),
            previous[j - 1] + cost);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }

  private static boolean same(char a, char b) {
    return Character.toLowerCase(a) == Character.toLowerCase(b)
        || (a == '_' || a == '-') && (b == '_' || b == '-');
  }
}
