package io.infraveil.host.payload;

import io.infraveil.host.fs.AtomicFiles;
import io.infraveil.payload.Sha256Hex;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Bounds the cache: keeps every entry a deployment still refers to, plus the newest
 * {@code keepNewest} others (by the entry directory's modification time: when it was
 * completed or last given a header for another deployment), and deletes the rest.
 * {@link #plan} decides, {@link #apply} acts. An entry is first renamed out of
 * {@code cache/} into {@code .partial/} and only then deleted, so a crash mid-delete never
 * leaves a half-deleted entry that looks complete. Entries busy in another call are skipped.
 */
public final class CacheRetention {

  public static final int DEFAULT_KEEP_NEWEST = 3;

  private static final Pattern SHA = Pattern.compile("[0-9a-f]{64}");

  /** One complete cache entry as seen on disk. */
  public record Entry(String sha256, Instant completedAt) {
    public Entry {
      Sha256Hex.requireValid(sha256, "sha256");
      Objects.requireNonNull(completedAt, "completedAt");
    }
  }

  private final CacheLayout layout;
  private final int keepNewest;

  public CacheRetention(CacheLayout layout, int keepNewest) {
    this.layout = Objects.requireNonNull(layout, "layout");
    if (keepNewest < 0) {
      throw new IllegalArgumentException("keepNewest must be >= 0, got " + keepNewest);
    }
    this.keepNewest = keepNewest;
  }

  public CacheRetention(CacheLayout layout) {
    this(layout, DEFAULT_KEEP_NEWEST);
  }

  /** The hashes to delete: not referenced and not among the newest {@code keepNewest} others. */
  public static List<String> plan(List<Entry> entries, Set<String> referenced, int keepNewest) {
    List<Entry> others = new ArrayList<>();
    for (Entry entry : entries) {
      if (!referenced.contains(entry.sha256())) {
        others.add(entry);
      }
    }
    others.sort(Comparator.comparing(Entry::completedAt).reversed()
        .thenComparing(Entry::sha256));
    return others.stream().skip(keepNewest).map(Entry::sha256).sorted().toList();
  }

  /** Deletes what {@link #plan} picks; returns the hashes actually deleted. */
  public List<String> apply(Set<String> referenced) throws IOException {
    Objects.requireNonNull(referenced, "referenced");
    List<String> deleted = new ArrayList<>();
    for (String sha : plan(entries(), referenced, keepNewest)) {
      if (delete(sha)) {
        deleted.add(sha);
      }
    }
    return deleted;
  }

  /** Complete entries now in the cache. */
  public List<Entry> entries() throws IOException {
    List<Entry> entries = new ArrayList<>();
    if (!Files.isDirectory(layout.cacheDir())) {
      return entries;
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(layout.cacheDir())) {
      for (Path dir : dirs) {
        String name = dir.getFileName().toString();
        if (SHA.matcher(name).matches() && Files.isDirectory(dir)) {
          entries.add(new Entry(name, Files.getLastModifiedTime(dir).toInstant()));
        }
      }
    }
    return entries;
  }

  private boolean delete(String sha) throws IOException {
    try (ShaLocks.Held held = ShaLocks.acquire(layout.lockFile(sha), false).orElse(null)) {
      if (held == null) {
        return false;
      }
      Path entry = layout.entryDir(sha);
      if (!Files.exists(entry)) {
        return false;
      }
      Path doomed = layout.partialDir().resolve(sha + ".deleting");
      FileTrees.deleteRecursively(doomed);
      Files.move(entry, doomed, StandardCopyOption.ATOMIC_MOVE);
      AtomicFiles.fsyncDirectory(layout.cacheDir());
      FileTrees.deleteRecursively(doomed);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while deleting cache entry " + sha, e);
    }
  }
}
