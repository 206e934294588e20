package io.infraveil.cli;

import io.infraveil.certs.CertificateAuthority;
import io.infraveil.certs.Identity;
import io.infraveil.certs.Pem;
import io.infraveil.certs.PkiDirectory;
import io.infraveil.certs.Pkcs12;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code infraveil certs}: the installation's CA and the certificates issued from it. */
@Command(name = "certs", mixinStandardHelpOptions = true,
    description = "Create the CA and issue server, operator and host certificates.",
    subcommands = {CertsCommand.Init.class, CertsCommand.Issue.class})
final class CertsCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
        "missing command: init or issue");
  }

  /** {@code certs init}: a new CA; never replaces an existing one. */
  @Command(name = "init", mixinStandardHelpOptions = true,
      description = "Create a CA in DIR (ca.crt, and ca.key with mode 0600).")
  static final class Init implements Callable<Integer> {

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "PKI directory.")
    Path dir;

    @Option(names = "--trust-domain", paramLabel = "NAME", defaultValue = "infraveil.local",
        description = "Trust domain of every identity (default: ${DEFAULT-VALUE}).")
    String trustDomain;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      PkiDirectory pki = new PkiDirectory(dir, Clock.systemUTC());
      CertificateAuthority ca = pki.init(trustDomain);
      PrintWriter out = spec.commandLine().getOut();
      out.println("created CA for trust domain " + ca.trustDomain() + " (spiffe://"
          + ca.trustDomain() + "), valid until " + ca.certificate().getNotAfter().toInstant());
      out.println("  " + pki.caCertFile());
      out.println("  " + dir.resolve(CertificateAuthority.CA_KEY_FILE)
          + "  (private key, mode 0600: keep it off shared disks)");
      return 0;
    }
  }

  /** {@code certs issue}: a key pair and a certificate for one identity. */
  @Command(name = "issue", mixinStandardHelpOptions = true,
      description = "Issue a certificate: DIR/NAME.crt and DIR/NAME.key (PKCS#8, mode 0600).")
  static final class Issue implements Callable<Integer> {

    @Option(names = "--dir", required = true, paramLabel = "DIR",
        description = "PKI directory made by `certs init`.")
    Path dir;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Who who;

    @Option(names = "--san", paramLabel = "DNS-or-IP",
        description = "Extra subject alternative name of a server certificate (repeatable).")
    List<String> sans = new ArrayList<>();

    @Option(names = "--days", paramLabel = "N", defaultValue = "365",
        description = "Validity in days (default: ${DEFAULT-VALUE}).")
    int days;

    @Option(names = "--force", description = "Replace an existing NAME.crt / NAME.key.")
    boolean force;

    @Option(names = "--p12",
        description = "Also write DIR/NAME.p12 (mode 0600): key, certificate and CA in one PKCS#12 file for a "
            + "browser or keychain to import. Its password is printed once unless --p12-password-file is given.")
    boolean p12;

    @Option(names = "--p12-password-file", paramLabel = "FILE",
        description = "Read the PKCS#12 password from the first line of FILE instead of making one.")
    Path p12PasswordFile;

    @Spec CommandSpec spec;

    /** Exactly one kind of identity. */
    static final class Who {
      @Option(names = "--server", paramLabel = "NAME", required = true,
          description = "A control-plane server certificate (identity kind controlplane).")
      String server;

      @Option(names = "--operator", paramLabel = "NAME", required = true,
          description = "An operator client certificate, for `ctl`, buf curl or grpcurl.")
      String operator;

      @Option(names = "--host", paramLabel = "NAME", required = true,
          description = "A host certificate made without enrollment (tests, air-gapped hosts).")
      String host;

      Identity.Kind kind() {
        return server != null ? Identity.Kind.CONTROL_PLANE
            : operator != null ? Identity.Kind.OPERATOR : Identity.Kind.HOST;
      }

      String name() {
        return server != null ? server : operator != null ? operator : host;
      }
    }

    @Override
    public Integer call() throws Exception {
      String name = who.name();
      if (!Identity.isValidName(name)) {
        throw CliException.usage("name \"" + name + "\" is invalid: use lower-case letters, "
            + "digits, dots and dashes, starting and ending with a letter or digit");
      }
      if ("ca".equals(name)) {
        throw CliException.usage("name \"ca\" is reserved for the CA's own files");
      }
      if (!sans.isEmpty() && who.kind() != Identity.Kind.CONTROL_PLANE) {
        throw CliException.usage("--san is only for server certificates (--server NAME)");
      }
      if ((p12 || p12PasswordFile != null) && who.kind() != Identity.Kind.OPERATOR) {
        throw CliException.usage("--p12 is for operator certificates (--operator NAME): browsers present them");
      }
      char[] password = null;
      if (p12PasswordFile != null) {
        List<String> lines = Files.exists(p12PasswordFile) ? Files.readAllLines(p12PasswordFile) : List.of();
        if (lines.isEmpty() || lines.get(0).isEmpty()) {
          throw CliException.usage("--p12-password-file " + p12PasswordFile + " is missing or its first line is empty");
        }
        password = lines.get(0).toCharArray();
      }
      if (days < 1) {
        throw CliException.usage("--days must be at least 1, got " + days);
      }
      PkiDirectory pki = new PkiDirectory(dir, Clock.systemUTC());
      if (!Files.exists(dir.resolve(CertificateAuthority.CA_KEY_FILE))) {
        throw new CliException("no CA in " + dir + ": run `infraveil certs init --dir " + dir
            + "` first");
      }
      if (!force && (Files.exists(pki.certFile(name)) || Files.exists(pki.keyFile(name)))) {
        throw new CliException(pki.certFile(name) + " already exists; pass --force to replace it");
      }
      List<String> allSans = new ArrayList<>(sans);
      if (who.kind() == Identity.Kind.CONTROL_PLANE && allSans.isEmpty()) {
        allSans.addAll(List.of("localhost", "127.0.0.1", "::1"));
      }
      PkiDirectory.Issued issued = pki.issue(who.kind(), name, allSans, Duration.ofDays(days));
      PrintWriter out = spec.commandLine().getOut();
      out.println("issued " + issued.identity().uri() + ", valid until "
          + issued.certificate().getNotAfter().toInstant());
      if (!allSans.isEmpty()) {
        out.println("  server names: " + String.join(", ", allSans));
      }
      out.println("  " + issued.certFile());
      out.println("  " + issued.keyFile() + "  (private key, mode 0600)");
      if (p12 || p12PasswordFile != null) {
        boolean made = password == null;
        if (made) {
          password = Pkcs12.randomPassword(new SecureRandom());
        }
        Path bundle = dir.resolve(name + ".p12");
        Pkcs12.write(bundle, name, Pem.readPrivateKey(issued.keyFile()),
            List.of(issued.certificate(), Pem.readCertificate(pki.caCertFile())), password);
        out.println("  " + bundle + "  (PKCS#12 for a browser, mode 0600"
            + (made ? "; password, shown once: " + new String(password) : "; password from " + p12PasswordFile) + ")");
        out.println("  import it into the browser, and open the dashboard with it: no sign-in link needed");
      }
      return 0;
    }
  }
}
