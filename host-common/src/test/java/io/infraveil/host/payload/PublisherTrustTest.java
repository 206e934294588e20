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

/** Replay rules of pinned publisher keys, over the real sequences file. */
class PublisherTrustTest {

  private static final String A = "a".repeat(64);
  private static final String B = "b".repeat(64);

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
      trust.checkSequence("web", sequence, hash);
      return;
    }
    PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
        () -> trust.checkSequence("web", sequence, hash));
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
    assertThrows(PayloadRejectedException.class, () -> reread.checkSequence("web", 6, A));
    reread.checkSequence("web", 7, A);
    reread.checkSequence("api", 2, B);
  }

  @Test
  void aFileWrittenBeforeHashesWereKeptStillRefusesOlderSequences() throws Exception {
    Files.createDirectories(layout.sequencesFile().getParent());
    Files.writeString(layout.sequencesFile(), "{\"version\":1,\"highest\":{\"web\":4}}");

    trust.checkSequence("web", 4, B);
    PayloadRejectedException e = assertThrows(PayloadRejectedException.class,
        () -> trust.checkSequence("web", 3, A));
    assertEquals(RejectionReason.STALE_SEQUENCE, e.reason());
  }

  @Test
  void withoutPinnedKeysNothingIsCheckedOrWritten() throws IOException, PayloadRejectedException {
    PublisherTrust none = PublisherTrust.none();

    none.recordAccepted("web", 9, A);
    none.checkSequence("web", 1, B);

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
          () -> trust.checkSequence(deployment, rounds - 1, A), deployment);
      assertTrue(e.getMessage().contains("older than sequence " + rounds), e.getMessage());
    }
  }
}
