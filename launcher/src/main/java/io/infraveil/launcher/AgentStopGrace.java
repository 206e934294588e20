package io.infraveil.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.infraveil.appconfig.AppConfig;
import io.infraveil.appconfig.AppConfigParser;
import io.infraveil.appconfig.ConfigException;
import io.infraveil.appconfig.ServiceSpec;
import io.infraveil.host.fs.JsonFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * How long an agent gets to stop before the launcher kills it and its services. The agent stops
 * its services in parallel, each within its own {@code stop_timeout}, so it needs the longest
 * of them plus a margin (for its own shutdown); never less than the configured minimum. The
 * timeouts come from the extracted release's {@code config.yaml}
 * ({@code DATA/agents/<d>/releases/<sha256>/}) of the release the agent reports running and of
 * the payload it was started for; when neither can be read, the minimum applies.
 */
final class AgentStopGrace {

  private final Duration minimum;
  private final Duration margin;

  AgentStopGrace(Duration minimum, Duration margin) {
    this.minimum = Objects.requireNonNull(minimum, "minimum");
    this.margin = Objects.requireNonNull(margin, "margin");
  }

  Duration forAgent(Path agentDir, PayloadId startedFor) {
    Set<String> releases = new LinkedHashSet<>();
    runningRelease(agentDir).ifPresent(releases::add);
    if (startedFor != null) {
      releases.add(startedFor.sha256());
    }
    Duration longest = Duration.ZERO;
    for (String sha : releases) {
      Path config = agentDir.resolve("releases").resolve(sha).resolve("config.yaml");
      if (!sha.matches("[0-9a-f]{64}") || !Files.isRegularFile(config)) {
        continue;
      }
      try {
        AppConfig app = AppConfigParser.parse(config);
        for (ServiceSpec service : app.services().values()) {
          if (service.stopTimeout().compareTo(longest) > 0) {
            longest = service.stopTimeout();
          }
        }
      } catch (ConfigException | IOException | RuntimeException unreadable) {
        // the agent refused it too; the minimum applies
      }
    }
    Duration needed = longest.plus(margin);
    return needed.compareTo(minimum) > 0 ? needed : minimum;
  }

  private static java.util.Optional<String> runningRelease(Path agentDir) {
    Path state = agentDir.resolve(AgentServiceProcesses.FILE);
    if (!Files.isRegularFile(state)) {
      return java.util.Optional.empty();
    }
    try {
      JsonNode release = JsonFiles.mapper().readTree(state.toFile()).get("releaseSha256");
      return release == null || !release.isTextual() ? java.util.Optional.empty()
          : java.util.Optional.of(release.asText());
    } catch (IOException | RuntimeException unreadable) {
      return java.util.Optional.empty();
    }
  }
}
