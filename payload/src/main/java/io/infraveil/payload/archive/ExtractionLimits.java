package io.infraveil.payload.archive;

/**
 * Bounds on what one extraction may write, so that a small compressed payload cannot fill
 * the disk or the inode table (a "zip bomb").
 */
public record ExtractionLimits(long maxTotalBytes, int maxEntries) {

  public static final long DEFAULT_MAX_TOTAL_BYTES = 1L << 30;
  public static final int DEFAULT_MAX_ENTRIES = 100_000;
  public static final ExtractionLimits DEFAULT =
      new ExtractionLimits(DEFAULT_MAX_TOTAL_BYTES, DEFAULT_MAX_ENTRIES);

  public ExtractionLimits {
    if (maxTotalBytes < 0) {
      throw new IllegalArgumentException("maxTotalBytes must be >= 0, got " + maxTotalBytes);
    }
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries must be >= 1, got " + maxEntries);
    }
  }
}
