package io.infraveil.host.process.cgroup;

import io.infraveil.host.process.ServiceAccount;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The argv that runs a shell command inside a cgroup, optionally as another account: a small
 * {@code sh} prelude writes its own pid to each {@code cgroup.procs} file (so it joins before
 * the command runs and everything the command forks is born inside), then drops to the account
 * with {@code setpriv} and execs the command. The pid stays the same throughout.
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
    List<String> argv = new ArrayList<>(List.of("sh", "-c", PRELUDE, "infraveil-contained",
        command,
        account.map(a -> Integer.toString(a.uid())).orElse(""),
        account.map(a -> Integer.toString(a.gid())).orElse("")));
    cgroup.ifPresent(g -> g.procsFiles().stream().map(Path::toString).forEach(argv::add));
    return argv;
  }
}
