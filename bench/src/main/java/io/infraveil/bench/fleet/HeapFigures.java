package io.infraveil.bench.fleet;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.stream.Collectors;
import javax.management.ObjectName;

/** Live heap after a full collection, and the top of the JVM's class histogram (what jcmd GC.class_histogram prints). */
final class HeapFigures {

  private HeapFigures() {}

  /** Bytes used after full collections, taken when two in a row agree (finalizers and soft references settle). */
  static long liveBytes() throws InterruptedException {
    long last = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(200);
      long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      if (Math.abs(used - last) < 256 * 1024) {
        return used;
      }
      last = used;
    }
    return last;
  }

  /** The first {@code lines} rows of the class histogram of live objects (a full collection first). */
  static String classHistogram(int lines) {
    try {
      Object text = ManagementFactory.getPlatformMBeanServer().invoke(
          new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
          new Object[] {new String[0]}, new String[] {String[].class.getName()});
      return Arrays.stream(text.toString().split("\n")).limit(lines + 2L).collect(Collectors.joining("\n"));
    } catch (Exception e) {
      return "class histogram not available: " + e;
    }
  }
}
