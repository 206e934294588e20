package io.infraveil.cli.ctl;

import io.infraveil.proto.v1.RevokeHostRequest;
import io.infraveil.proto.v1.RevokeHostResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ctl revoke NAME}: cuts a host off at once, open streams included. */
@Command(name = "revoke", mixinStandardHelpOptions = true,
    description = "Revoke every certificate of host NAME and close its open streams.")
final class RevokeCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "NAME", description = "Host name.")
  String hostName;

  @Option(names = "--reason", paramLabel = "R", description = "Why, for the record.")
  String reason = "";

  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() throws Exception {
    try (Connection connection = ctl.connect()) {
      RevokeHostResponse response = connection.unary().revokeHost(RevokeHostRequest.newBuilder()
          .setHostName(hostName).setReason(reason).build());
      ctl.print(response, out -> {
        out.println("revoked host " + hostName + ": " + response.getRevokedSerialsCount()
            + " certificate(s), " + response.getClosedStreams() + " open stream(s) closed");
        response.getRevokedSerialsList().forEach(serial -> out.println("  serial " + serial));
      });
    }
    return 0;
  }
}
