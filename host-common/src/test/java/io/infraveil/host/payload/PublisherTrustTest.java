package io.infraveil.host.payload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.trust.PublisherKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** Replay rules of pinned publisher keys, over the real sequences file. */
class PublisherTrustTest {

  private static final String A = "a".repeat(64);
  private static final String B = "b".repeat(64);
  private static final String C = "c".repeat(64);

  @TempDir Path data;
  private CacheLayout layout;
  private PublisherTrust trust;

  @BeforeEach
  void pin() throws Exception {
    layout = new CacheLayout(data);
    Files.createDirectories(layout.publishersFile().getParent());
    Files.writeString(layout.publishersFile(),
        PublisherKeys.toPem(PublisherKeys.newKeyPair(new SecureRandom()).getPublic()));
    trust = PublisherTrust.fromHost(layout);
  }

  // After sequence 5 with hash A was accepted: what each (sequence, hash) gets.
  @ParameterizedTest(name = "sequence {0} sha {1} -> {2}")
  @CsvSource({
      "6, b, accepted",
      "5, a, accepted",
      "5, b, refused",
      "4, a, refused",
      "1, b, refused",
  })
  void sequenceMustBeNewOrTheSameVersionAgain(long sequence, String sha, String outcome)
      throws Exception {
    trust.recordAccepted("web", 5, A);
    String hash = sha.equals("a") ? A : B;

    if (outcome.equals("accepted")) {
      trust.checkSequence("web", sequence, hash, PayloadOrigin.CONTROL_PLANE);
      return;
    }
    PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
        () -> trust.checkSequence("web", sequence, hash, PayloadOrigin.CONTROL_PLANE));
    assertEquals(RejectionReason.STALE_SEQUENCE, e.reason());
    assertTrue(e.getMessage().contains("deployment 'web' sequence " + sequence), e.getMessage());
    assertTrue(e.getMessage().contains(sequence < 5 ? "is older than sequence 5 already accepted"
        : "was accepted on this host for sha256 " + A), e.getMessage());
  }

  @Test
  void acceptedSequencesSurviveANewInstanceAndOnlyMoveUp() throws Exception {
    trust.recordAccepted("web", 7, A);
    trust.recordAccepted("web", 3, B);
    trust.recordAccepted("api", 2, B);

    PublisherTrust reread = PublisherTrust.fromHost(layout);
    assertThrows(PayloadRejectedException.class,
        () -> reread.checkSequence("web", 6, A, PayloadOrigin.CONTROL_PLANE));
    reread.checkSequence("web", 7, A, PayloadOrigin.CONTROL_PLANE);
    reread.checkSequence("api", 2, B, PayloadOrigin.CONTROL_PLANE);
  }

  @Test
  void aFileWrittenBeforeHashesWereKeptStillRefusesOlderSequences() throws Exception {
    Files.createDirectories(layout.sequencesFile().getParent());
    Files.writeString(layout.sequencesFile(), "{\"version\":1,\"highest\":{\"web\":4}}");

    trust.checkSequence("web", 4, B, PayloadOrigin.CONTROL_PLANE);
    PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
        () -> trust.checkSequence("web", 3, A, PayloadOrigin.CONTROL_PLANE));
    assertEquals(RejectionReason.STALE_SEQUENCE, e.reason());
  }

  @Test
  void withoutPinnedKeysNothingIsCheckedOrWritten() throws IOException, PayloadRejectedException {
    PublisherTrust none = PublisherTrust.none();

    none.recordAccepted("web", 9, A);
    none.checkSequence("web", 1, B, PayloadOrigin.CONTROL_PLANE);

    assertFalse(none.required());
    assertFalse(Files.exists(layout.sequencesFile()));
  }

  @Test
  void aBrokenPinnedKeysFileIsAnErrorNotAnUnpinnedHost() throws Exception {
    Files.writeString(layout.publishersFile(), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");

    IOException e = assertThrows(IOException.class, () -> PublisherTrust.fromHost(layout));

    assertTrue(e.getMessage().contains("cannot read pinned publisher keys from "
        + layout.publishersFile()), e.getMessage());
  }

  // Launcher workers and agents record at the same time; no deployment's record may be lost.
  @Test
  void concurrentRecordsOfDifferentDeploymentsAreAllKept() throws Exception {
    int rounds = 150;
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (String deployment : List.of("web", "api", "jobs")) {
        // One PublisherTrust per writer, as separate processes have.
        PublisherTrust writer = PublisherTrust.fromHost(layout);
        done.add(pool.submit(() -> {
          for (long sequence = 1; sequence <= rounds; sequence++) {
            writer.recordAccepted(deployment, sequence, A);
          }
          return null;
        }));
      }
      for (var future : done) {
        future.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    for (String deployment : List.of("web", "api", "jobs")) {
      PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
          () -> trust.checkSequence(deployment, rounds - 1, A, PayloadOrigin.CONTROL_PLANE),
          deployment);
      assertTrue(e.getMessage().contains("older than sequence " + rounds), e.getMessage());
    }
  }

  private PublisherTrust.Sequences onDisk() throws IOException {
    return io.infraveil.host.fs.JsonFiles.read(layout.sequencesFile(),
        PublisherTrust.Sequences.class).orElseThrow();
  }

  private static String hash(String letter) {
    return letter.repeat(64);
  }

  // Accepted in turn: 3 -> a, 5 -> b, 7 -> c. Who asks decides what an older sequence means.
  @ParameterizedTest(name = "{0} sequence {1} sha {2} -> {3}")
  @CsvSource({
      "LAUNCHER_FALLBACK, 5, b, FALLBACK_ACCEPTED_BEFORE",
      "CONTROL_PLANE,     5, b, OLDER",
      "LAUNCHER_FALLBACK, 3, a, FALLBACK_ACCEPTED_BEFORE",
      "CONTROL_PLANE,     3, a, OLDER",
      "LAUNCHER_FALLBACK, 5, a, FALLBACK_NOT_ACCEPTED_BEFORE",
      "LAUNCHER_FALLBACK, 4, a, FALLBACK_NOT_ACCEPTED_BEFORE",
      "LAUNCHER_FALLBACK, 7, c, SAME_VERSION",
      "CONTROL_PLANE,     7, c, SAME_VERSION",
      "LAUNCHER_FALLBACK, 7, a, OTHER_HASH_AT_SEQUENCE",
      "CONTROL_PLANE,     8, a, NEWER",
      "LAUNCHER_FALLBACK, 8, a, NEWER",
  })
  void launcherFallbackMayReturnOnlyToAVersionThisHostAccepted(PayloadOrigin origin,
      long sequence, String sha, PublisherTrust.SequenceReason expected) throws Exception {
    trust.recordAccepted("web", 3, A);
    trust.recordAccepted("web", 5, B);
    trust.recordAccepted("web", 7, C);

    PublisherTrust.SequenceVerdict verdict = PublisherTrust.judge(onDisk(), "web", sequence,
        hash(sha), origin);

    assertEquals(expected, verdict.reason());
    boolean accepted = switch (expected) {
      case FIRST, NEWER, SAME_VERSION, FALLBACK_ACCEPTED_BEFORE -> true;
      case OLDER, FALLBACK_NOT_ACCEPTED_BEFORE, OTHER_HASH_AT_SEQUENCE -> false;
    };
    assertEquals(accepted, verdict.accepted());
    // checkSequence carries the verdict out against the same file.
    if (accepted) {
      trust.checkSequence("web", sequence, hash(sha), origin);
    } else {
      PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
          () -> trust.checkSequence("web", sequence, hash(sha), origin));
      assertEquals(RejectionReason.STALE_SEQUENCE, e.reason());
      assertTrue(e.getMessage().contains("deployment 'web' sequence " + sequence),
          e.getMessage());
    }
  }

  @ParameterizedTest
  @EnumSource(PayloadOrigin.class)
  void nothingAcceptedYetIsFirstForEveryOrigin(PayloadOrigin origin) throws Exception {
    assertEquals(new PublisherTrust.SequenceVerdict(true, PublisherTrust.SequenceReason.FIRST),
        PublisherTrust.judge(PublisherTrust.Sequences.empty(), "web", 1, A, origin));
  }

  // The refusal of a fallback says why and what to do.
  @Test
  void refusedFallbackNamesTheVersionAndTheRemedy() throws Exception {
    trust.recordAccepted("web", 5, B);

    PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
        () -> trust.checkSequence("web", 4, A, PayloadOrigin.LAUNCHER_FALLBACK));

    assertEquals(RejectionReason.STALE_SEQUENCE, e.reason());
    assertTrue(e.getMessage().contains("deployment 'web' sequence 4 (sha256 " + A + ") is older"
        + " than sequence 5 and is not among the last 8 versions this host accepted, so the"
        + " launcher cannot fall back to it; deploy it again signed with a higher sequence"),
        e.getMessage());
  }

  // Only the last HISTORY accepted versions are remembered: older ones are refused again.
  @Test
  void historyKeepsTheLastEightAcceptedVersions() throws Exception {
    for (long sequence = 1; sequence <= 10; sequence++) {
      trust.recordAccepted("web", sequence, hash(Long.toHexString(sequence)));
    }
    trust.recordAccepted("web", 4, A); // older: not a new acceptance, changes nothing

    List<PublisherTrust.Accepted> kept = onDisk().history().get("web");
    assertEquals(PublisherTrust.HISTORY, kept.size());
    assertEquals(new PublisherTrust.Accepted(3, hash("3")), kept.get(0));
    assertEquals(new PublisherTrust.Accepted(10, hash("a")), kept.get(7));
    assertThrows(PayloadRejectedException.class,
        () -> trust.checkSequence("web", 2, hash("2"), PayloadOrigin.LAUNCHER_FALLBACK));
    trust.checkSequence("web", 3, hash("3"), PayloadOrigin.LAUNCHER_FALLBACK);
  }

  // A file from before history was kept: its highest version seeds the history.
  @Test
  void aFileWithoutHistoryRemembersItsHighestVersionForFallbacks() throws Exception {
    Files.createDirectories(layout.sequencesFile().getParent());
    Files.writeString(layout.sequencesFile(),
        "{\"version\":1,\"highest\":{\"web\":4},\"sha256\":{\"web\":\"" + A + "\"}}");

    trust.recordAccepted("web", 6, B);

    trust.checkSequence("web", 4, A, PayloadOrigin.LAUNCHER_FALLBACK);
    assertThrows(PayloadRejectedException.class,
        () -> trust.checkSequence("web", 4, A, PayloadOrigin.CONTROL_PLANE));
  }
}
