package io.infraveil.host.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code DATA/agents/<deployment>/handover}: the launcher's word to an agent it is about to
 * replace (a new version, a restart) that the next agent takes its services over. An agent
 * that receives SIGTERM while the file exists exits without stopping its services; the next
 * agent replaces them (one cluster index at a time where a service has several, see
 * docs/services.md) and then removes the file. A stop for any other reason (delete,
 * suspension, launcher exit) removes it first, so that SIGTERM stops everything as before.
 * A contract between launcher and agent, defined once here.
 */
public final class AgentHandover {

  public static final String FILE = "handover";

  private AgentHandover() {}

  /** Asks the agent of {@code agentDir} to leave its services to the next agent. */
  public static void request(Path agentDir) throws IOException {
    AtomicFiles.write(agentDir.resolve(FILE),
        "the next agent takes the services over\n".getBytes(StandardCharsets.UTF_8));
  }

  public static boolean requested(Path agentDir) {
    return Files.exists(agentDir.resolve(FILE));
  }

  /** Removes the request (idempotent). */
  public static void clear(Path agentDir) throws IOException {
    Files.deleteIfExists(agentDir.resolve(FILE));
  }
}
