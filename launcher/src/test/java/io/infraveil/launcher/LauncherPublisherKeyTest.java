package io.infraveil.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code launcher --publisher-key}: an unusable key stops the launcher before it enrolls. */
class LauncherPublisherKeyTest {

  @TempDir Path work;

  @Test
  void anUnusableKeyFileExitsTwoBeforeEnrollingAndPinsNothing() throws Exception {
    Path data = work.resolve("data");
    Path notAKey = Files.writeString(work.resolve("release.pub"), "not a key\n");
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream original = System.out;
    int code;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      // Port 1 on loopback: reaching for the network at all would fail differently.
      code = new CommandLine(new LauncherMain()).execute("--data-dir", data.toString(),
          "--control-plane", "127.0.0.1:1", "--ca", work.resolve("ca.crt").toString(),
          "--join-token", "ivj_unused", "--name", "web-1",
          "--publisher-key", notAKey.toString(), "--metrics-port", "0");
    } finally {
      System.setOut(original);
    }

    String out = captured.toString(StandardCharsets.UTF_8);
    assertEquals(2, code, out);
    assertTrue(out.contains("publisher_key_refused"), out);
    assertTrue(out.contains(notAKey + " is not usable"), out);
    assertFalse(out.contains("enroll_start"), out);
    assertFalse(Files.exists(data.resolve("identity/publishers.pem")));
    assertFalse(Files.exists(data.resolve("identity/host.key")), "no enrollment began");
  }
}
