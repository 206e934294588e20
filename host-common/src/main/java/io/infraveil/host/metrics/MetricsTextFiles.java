package io.infraveil.host.metrics;

import io.infraveil.host.fs.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The host's metrics hand-off in one place: each agent writes its metrics in the Prometheus
 * text format (0.0.4) to {@code DATA/agents/<deployment>/metrics.prom}, replaced atomically so
 * a reader never sees half a file; the launcher reads them all and serves them after its own.
 *
 * <p>Files are merged, not concatenated: the text format allows one {@code # HELP} and one
 * {@code # TYPE} line per metric family, and every agent writes the same families (told apart
 * by their {@code deployment} label), so samples are grouped under their family's first
 * header.
 */
public final class MetricsTextFiles {

  /** The file name under an agent's directory. */
  public static final String FILE_NAME = "metrics.prom";

  private MetricsTextFiles() {}

  /** {@code DATA/agents/<deployment>/metrics.prom}. */
  public static Path agentFile(Path dataDir, String deployment) {
    return dataDir.resolve("agents").resolve(deployment).resolve(FILE_NAME);
  }

  /** Replaces {@code file} atomically; unchanged text is not rewritten. */
  public static void write(Path file, String text) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    AtomicFiles.writeIfChanged(file, text.getBytes(StandardCharsets.UTF_8));
  }

  /** The text of every agent's file under {@code DATA/agents}, by deployment name order. */
  public static List<String> readAgents(Path dataDir) throws IOException {
    Path agents = dataDir.resolve("agents");
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(agents, Files::isDirectory)) {
      for (Path dir : dirs) {
        files.add(dir.resolve(FILE_NAME));
      }
    } catch (NoSuchFileException e) {
      return List.of();
    }
    files.sort(null);
    List<String> texts = new ArrayList<>();
    for (Path file : files) {
      try {
        texts.add(Files.readString(file, StandardCharsets.UTF_8));
      } catch (NoSuchFileException e) {
        // an agent that has not written yet, or a deployment just removed
      }
    }
    return texts;
  }

  /**
   * Merges texts in the Prometheus text format: each family's {@code # HELP} and
   * {@code # TYPE} once (the first seen), then all of its samples, families in order of first
   * appearance. Samples before any header are kept under their own metric name.
   */
  public static String merge(List<String> texts) {
    Map<String, Family> families = new LinkedHashMap<>();
    for (String text : texts) {
      Family current = null;
      for (String line : text.split("\n", -1)) {
        if (line.isBlank()) {
          continue;
        }
        if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
          String name = token(line.substring(7));
          current = families.computeIfAbsent(name, Family::new);
          if (line.startsWith("# HELP ") && current.help == null) {
            current.help = line;
          } else if (line.startsWith("# TYPE ") && current.type == null) {
            current.type = line;
          }
        } else if (line.startsWith("#")) {
          continue; // other comments (EOF markers of OpenMetrics) are not carried over
        } else {
          String sampleName = sampleName(line);
          Family family = current != null && sampleName.startsWith(current.name)
              ? current : families.computeIfAbsent(sampleName, Family::new);
          family.samples.add(line);
        }
      }
    }
    StringBuilder out = new StringBuilder();
    for (Family family : families.values()) {
      if (family.samples.isEmpty()) {
        continue;
      }
      if (family.help != null) {
        out.append(family.help).append('\n');
      }
      if (family.type != null) {
        out.append(family.type).append('\n');
      }
      family.samples.forEach(sample -> out.append(sample).append('\n'));
    }
    return out.toString();
  }

  private static String token(String rest) {
    int space = rest.indexOf(' ');
    return space < 0 ? rest : rest.substring(0, space);
  }

  private static String sampleName(String line) {
    int end = 0;
    while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
      end++;
    }
    return line.substring(0, end);
  }

  private static final class Family {
    final String name;
    String help;
    String type;
    final List<String> samples = new ArrayList<>();

    Family(String name) {
      this.name = name;
    }
  }
}
