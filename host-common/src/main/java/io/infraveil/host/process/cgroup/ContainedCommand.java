package io.infraveil.host.process.cgroup;

import io.infraveil.host.process.ServiceAccount;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The argv that runs a shell command inside a cgroup, optionally as another account: the shell
 * writes its own pid to each {@code cgroup.procs} file (so it joins before the command runs and
 * everything the command forks is born inside), then runs the command. The pid stays the same
 * throughout.
 *
 * <p>Without an account the joins are put in front of the command in the one {@code sh -c}
 * that runs it, on the same line: one exec fewer on the way from a crash to its replacement,
 * and the command sees what {@code sh -c command} gives it ({@code $0} is {@code sh}, no
 * positional parameters, no extra variables, its own line numbers). With an account a
 * prelude joins, then execs {@code setpriv}, which execs {@code sh -c command}.
 *
 * <p>Only the first of the writes is slow: moving a process between cgroups write-locks the
 * kernel's global {@code cgroup_threadgroup_rwsem}, and taking that lock from its idle state
 * waits for an RCU grace period (milliseconds); the lock stays in its writer-ready state for a
 * grace period after it is released, so the writes right after it (the v1 hierarchies of a
 * hybrid host) do not wait again. Hosts mounted with {@code favordynmods} (or booted with
 * {@code cgroup_favordynmods=true}) skip that wait; bench/README.md has the figures.
 */
public final class ContainedCommand {

  /** Exit status of the prelude when the process cannot join its cgroup. */
  public static final int JOIN_FAILED = 125;

  private static final String PRELUDE = String.join("; ",
      "c=$1; u=$2; g=$3; shift 3",
      "for f do echo $$ > \"$f\" || { echo \"infraveil: cannot join cgroup: $f\" >&2; exit "
          + JOIN_FAILED + "; }; done",
      "if [ -n \"$u\" ]; then exec setpriv --reuid=\"$u\" --regid=\"$g\" --init-groups --"
          + " sh -c \"$c\"; fi",
      "exec sh -c \"$c\"");

  private ContainedCommand() {}

  /** {@code sh -c command}, joined to {@code cgroup} when present, as {@code account}. */
  public static List<String> shell(String command, Optional<ServiceCgroup> cgroup,
      Optional<ServiceAccount> account) {
    if (cgroup.isEmpty() && account.isEmpty()) {
      return List.of("sh", "-c", command);
    }
    if (account.isEmpty()) {
      return List.of("sh", "-c", joins(cgroup.get().procsFiles()) + command);
    }
    List<String> argv = new ArrayList<>(List.of("sh", "-c", PRELUDE, "infraveil-contained",
        command,
        account.map(a -> Integer.toString(a.uid())).orElse(""),
        account.map(a -> Integer.toString(a.gid())).orElse("")));
    cgroup.ifPresent(g -> g.procsFiles().stream().map(Path::toString).forEach(argv::add));
    return argv;
  }

  /** One join per file, each ending the shell with {@link #JOIN_FAILED} when refused. */
  private static String joins(List<Path> procsFiles) {
    StringBuilder script = new StringBuilder();
    for (Path file : procsFiles) {
      String quoted = quote(file.toString());
      script.append("echo $$ > ").append(quoted).append(" || { echo \"infraveil: cannot join")
          .append(" cgroup: \"").append(quoted).append(" >&2; exit ").append(JOIN_FAILED)
          .append("; }; ");
    }
    return script.toString();
  }

  /** {@code value} as one single-quoted shell word. */
  private static String quote(String value) {
    return "'" + value.replace("'", "'\\''") + "'";
  }
}
