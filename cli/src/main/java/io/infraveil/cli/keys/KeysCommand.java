package io.infraveil.cli.keys;

import io.infraveil.certs.Identity;
import io.infraveil.certs.Pem;
import io.infraveil.cli.CliException;
import io.infraveil.payload.trust.PublisherKeys;
import io.infraveil.payload.trust.PublisherSignatures;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code infraveil keys}: publisher keys. They are made and kept on the publisher's machine;
 * nothing here talks to the control plane, so a compromised control plane never sees them.
 */
@Command(name = "keys", mixinStandardHelpOptions = true,
    description = "Make publisher signing keys (kept on this machine, never sent anywhere).",
    subcommands = KeysCommand.CreatePublisher.class)
public final class KeysCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: create-publisher");
  }

  /** {@code keys create-publisher --dir D NAME}: an Ed25519 key pair, never overwritten. */
  @Command(name = "create-publisher", mixinStandardHelpOptions = true,
      description = "Create an Ed25519 publisher key pair: DIR/NAME.key (private, mode 0600) "
          + "and DIR/NAME.pub (public, to pin on hosts).")
  static final class CreatePublisher implements Callable<Integer> {

    @Option(names = "--dir", required = true, paramLabel = "DIR",
        description = "Directory for the key files (created with mode 0700 when missing).")
    Path dir;

    @Parameters(index = "0", paramLabel = "NAME",
        description = "Key name (lower-case letters, digits, dots and dashes), e.g. release.")
    String name;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      if (!Identity.isValidName(name)) {
        throw CliException.usage("key name \"" + name + "\" is invalid: use lower-case letters, "
            + "digits, dots and dashes, starting and ending with a letter or digit");
      }
      Path privateFile = dir.resolve(name + PublisherKeyFile.PRIVATE_SUFFIX);
      Path publicFile = dir.resolve(name + PublisherKeyFile.PUBLIC_SUFFIX);
      for (Path file : new Path[] {privateFile, publicFile}) {
        if (Files.exists(file)) {
          throw new CliException(file + " already exists; a publisher key is never replaced "
              + "(hosts pin it): choose another NAME or remove the old files yourself");
        }
      }
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rwx------")));
      }
      KeyPair pair = PublisherKeys.newKeyPair(new SecureRandom());
      Pem.writeSecret(privateFile, PublisherKeys.privateKeyToPem(pair.getPrivate()));
      Pem.writePublic(publicFile, PublisherKeys.toPem(pair.getPublic()));
      String keyId = PublisherSignatures.keyId(pair.getPublic());
      PrintWriter out = spec.commandLine().getOut();
      out.println("created publisher key " + name + ", key id " + keyId);
      out.println("  " + privateFile + "  (private key, mode 0600: keep it here, never on the "
          + "control plane or a host)");
      out.println("  " + publicFile + "  (public key: pin it on every host)");
      out.println("pin it on a host, either:");
      out.println("  at enrollment: infraveil launcher ... --publisher-key " + publicFile);
      out.println("  later: append " + publicFile.getFileName()
          + " to DATA/identity/publishers.pem on the host, then restart its launcher");
      out.println("once pinned, the host runs only versions signed by a pinned key:");
      out.println("  infraveil ctl deploy DIR --name N --hosts H --sign " + privateFile);
      return 0;
    }
  }
}
