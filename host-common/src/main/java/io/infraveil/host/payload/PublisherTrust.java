package io.infraveil.host.payload;

import io.infraveil.host.fs.JsonFiles;
import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.trust.PublisherKeys;
import io.infraveil.payload.trust.PublisherSignature;
import io.infraveil.payload.trust.PublisherSignatures;
import io.infraveil.proto.v1.FetchHeader;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Step 4 of the trust chain, active only when the operator pinned publisher keys on the host
 * ({@code DATA/identity/publishers.pem}): then every payload needs a signature from a pinned
 * key, and a deployment's sequence must be above the highest one accepted before, or be that
 * very version again (same sequence, same hash), so an old signed version cannot be replayed
 * as new. The highest accepted sequence and its hash are kept in
 * {@code DATA/cache/sequences.json}, with the last {@value #HISTORY} accepted versions of each
 * deployment: the launcher's own crash fallback ({@link PayloadOrigin#LAUNCHER_FALLBACK}) may go
 * back to one of those, the control plane may not.
 */
public final class PublisherTrust {

  /** How many accepted versions per deployment are remembered for launcher fallbacks. */
  public static final int HISTORY = 8;

  /** One version accepted for a deployment. */
  record Accepted(long sequence, String sha256) {
    Accepted {
      Objects.requireNonNull(sha256, "sha256");
    }
  }

  /**
   * On-disk form of the accepted sequences; {@code version} names the format. {@code sha256}
   * (the hash accepted at the highest sequence) and {@code history} (the last {@value #HISTORY}
   * accepted versions, oldest first) were added within format 1: a file without a hash accepts
   * any hash at the highest sequence, as before; a file without history knows only its highest.
   */
  record Sequences(int version, Map<String, Long> highest, Map<String, String> sha256,
      Map<String, List<Accepted>> history) {
    static final int VERSION = 1;

    Sequences {
      highest = highest == null ? Map.of() : Map.copyOf(highest);
      sha256 = sha256 == null ? Map.of() : Map.copyOf(sha256);
      history = history == null ? Map.of() : Map.copyOf(history);
    }

    static Sequences empty() {
      return new Sequences(VERSION, Map.of(), Map.of(), Map.of());
    }

    /** True when this host accepted exactly (sequence, sha256) for the deployment. */
    boolean acceptedBefore(String deployment, long sequence, String sha256) {
      Long top = highest.get(deployment);
      if (top != null && top == sequence && sha256.equals(this.sha256.get(deployment))) {
        return true;
      }
      return history.getOrDefault(deployment, List.of()).contains(new Accepted(sequence, sha256));
    }
  }

  /** Why a sequence was accepted or refused; flows unchanged into messages and tests. */
  enum SequenceReason {
    /** Nothing accepted for the deployment yet. */
    FIRST,
    /** Above the highest accepted. */
    NEWER,
    /** The highest accepted version again (a restart, a re-fetch). */
    SAME_VERSION,
    /** Older, but the launcher's fallback to a version this host accepted before. */
    FALLBACK_ACCEPTED_BEFORE,
    /** Older, from the control plane: a replay. */
    OLDER,
    /** Older, a launcher fallback to a version this host never accepted (or forgot). */
    FALLBACK_NOT_ACCEPTED_BEFORE,
    /** The highest accepted sequence, but another hash. */
    OTHER_HASH_AT_SEQUENCE
  }

  /** The decision on one (deployment, sequence, sha256). */
  record SequenceVerdict(boolean accepted, SequenceReason reason) {}

  /** Pure: what {@code accepted} says about a version of {@code origin}. */
  static SequenceVerdict judge(Sequences accepted, String deployment, long sequence,
      String sha256, PayloadOrigin origin) {
    Long highest = accepted.highest().get(deployment);
    if (highest == null) {
      return new SequenceVerdict(true, SequenceReason.FIRST);
    }
    if (sequence > highest) {
      return new SequenceVerdict(true, SequenceReason.NEWER);
    }
    if (sequence == highest) {
      String acceptedSha = accepted.sha256().get(deployment);
      return acceptedSha == null || acceptedSha.equals(sha256)
          ? new SequenceVerdict(true, SequenceReason.SAME_VERSION)
          : new SequenceVerdict(false, SequenceReason.OTHER_HASH_AT_SEQUENCE);
    }
    return switch (origin) {
      case CONTROL_PLANE -> new SequenceVerdict(false, SequenceReason.OLDER);
      case LAUNCHER_FALLBACK -> accepted.acceptedBefore(deployment, sequence, sha256)
          ? new SequenceVerdict(true, SequenceReason.FALLBACK_ACCEPTED_BEFORE)
          : new SequenceVerdict(false, SequenceReason.FALLBACK_NOT_ACCEPTED_BEFORE);
      default -> throw new AssertionError("unknown origin " + origin);
    };
  }

  private static final PublisherTrust NONE = new PublisherTrust(List.of(), null);
  /** File locks exclude other processes only; this excludes other threads of this one. */
  private static final Object IN_PROCESS = new Object();

  private final List<PublicKey> pinned;
  private final Path sequencesFile;

  private PublisherTrust(List<PublicKey> pinned, Path sequencesFile) {
    this.pinned = List.copyOf(pinned);
    this.sequencesFile = sequencesFile;
  }

  /** No pinned keys: signatures and sequences are not checked (the seed's trust chain). */
  public static PublisherTrust none() {
    return NONE;
  }

  /** Pins {@code keys}; sequences are kept in {@code sequencesFile}. */
  public static PublisherTrust pinned(List<PublicKey> keys, Path sequencesFile) {
    Objects.requireNonNull(keys, "keys");
    Objects.requireNonNull(sequencesFile, "sequencesFile");
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("pin at least one publisher key, or use none()");
    }
    return new PublisherTrust(keys, sequencesFile);
  }

  /** Reads the host's pinned keys when the file exists; a broken file is an error, not "none". */
  public static PublisherTrust fromHost(CacheLayout layout) throws IOException {
    Path pem = layout.publishersFile();
    if (!Files.exists(pem)) {
      return none();
    }
    try {
      return pinned(PublisherKeys.allFromPem(Files.readString(pem, StandardCharsets.US_ASCII)),
          layout.sequencesFile());
    } catch (IllegalArgumentException e) {
      throw new IOException("cannot read pinned publisher keys from " + pem + ": "
          + e.getMessage(), e);
    }
  }

  public boolean required() {
    return !pinned.isEmpty();
  }

  /** Checks signatures and sequence; does nothing when no key is pinned. */
  void check(FetchHeader header, PayloadOrigin origin)
      throws PayloadRejectedException, IOException {
    if (!required()) {
      return;
    }
    String deployment = header.getDeployment();
    long sequence = header.getPayload().getSequence();
    List<PublisherSignature> signatures = new ArrayList<>();
    for (io.infraveil.proto.v1.PublisherSignature s : header.getSignaturesList()) {
      try {
        signatures.add(new PublisherSignature(s.getKeyId(), s.getSignature().toByteArray()));
      } catch (IllegalArgumentException malformedKeyId) {
        // A key id no pinned key can have: the same as a signature from an unknown key.
      }
    }
    PublisherSignatures.verify(pinned, deployment, sequence, header.getPayload().getSha256(),
        signatures);
    checkSequence(deployment, sequence, header.getPayload().getSha256(), origin);
  }

  /**
   * Refuses a replay before anything is fetched or read: a sequence below the highest accepted
   * for the deployment (unless it is the launcher's fallback to a version accepted before), or
   * the highest sequence naming another hash. Does nothing when no key is pinned.
   */
  void checkSequence(String deployment, long sequence, String sha256, PayloadOrigin origin)
      throws PayloadRejectedException, IOException {
    if (!required()) {
      return;
    }
    Sequences accepted = readSequences();
    SequenceVerdict verdict = judge(accepted, deployment, sequence, sha256,
        Objects.requireNonNull(origin, "origin"));
    if (verdict.accepted()) {
      return;
    }
    Long highest = accepted.highest().get(deployment);
    String message = switch (verdict.reason()) {
      case OLDER -> "deployment '" + deployment + "' sequence " + sequence + " is older than"
          + " sequence " + highest + " already accepted on this host: an old signed version"
          + " cannot be replayed as new; deploy it again signed with a higher sequence";
      case FALLBACK_NOT_ACCEPTED_BEFORE -> "deployment '" + deployment + "' sequence " + sequence
          + " (sha256 " + sha256 + ") is older than sequence " + highest + " and is not among"
          + " the last " + HISTORY + " versions this host accepted, so the launcher cannot fall"
          + " back to it; deploy it again signed with a higher sequence";
      case OTHER_HASH_AT_SEQUENCE -> "deployment '" + deployment + "' sequence " + sequence
          + " was accepted on this host for sha256 " + accepted.sha256().get(deployment)
          + ", not " + sha256 + ": one sequence names one version; sign the new one with a"
          + " higher sequence";
      default -> throw new AssertionError("refused for " + verdict.reason());
    };
    throw new PayloadRejectedException(RejectionReason.STALE_SEQUENCE, message);
  }

  /**
   * Remembers {@code sequence} (and its hash) as accepted when it is the highest so far. The
   * read-modify-write holds a lock across threads and processes (the launcher's workers and the
   * agents share the file), so one deployment's record never overwrites another's.
   */
  void recordAccepted(String deployment, long sequence, String sha256) throws IOException {
    if (!required()) {
      return;
    }
    Files.createDirectories(sequencesFile.getParent());
    Path lockFile = sequencesFile.resolveSibling(sequencesFile.getFileName() + ".lock");
    synchronized (IN_PROCESS) {
      try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE,
              StandardOpenOption.WRITE);
          FileLock held = channel.lock()) {
        recordLocked(deployment, sequence, sha256);
      }
    }
  }

  private void recordLocked(String deployment, long sequence, String sha256) throws IOException {
    Sequences current = readSequences();
    Long highest = current.highest().get(deployment);
    if (highest != null && (highest > sequence
        || highest == sequence && sha256.equals(current.sha256().get(deployment)))) {
      return;
    }
    Map<String, Long> next = new TreeMap<>(current.highest());
    next.put(deployment, sequence);
    Map<String, String> hashes = new TreeMap<>(current.sha256());
    hashes.put(deployment, sha256);
    Map<String, List<Accepted>> history = new TreeMap<>(current.history());
    history.put(deployment, remember(current, deployment, new Accepted(sequence, sha256)));
    JsonFiles.write(sequencesFile, new Sequences(Sequences.VERSION, next, hashes, history));
  }

  /** The deployment's history with {@code latest} added, oldest first, at most HISTORY long. */
  private static List<Accepted> remember(Sequences current, String deployment, Accepted latest) {
    List<Accepted> kept = new ArrayList<>(current.history().getOrDefault(deployment, List.of()));
    Long highest = current.highest().get(deployment);
    String highestSha = current.sha256().get(deployment);
    if (kept.isEmpty() && highest != null && highestSha != null) {
      kept.add(new Accepted(highest, highestSha)); // a file written before history was kept
    }
    kept.removeIf(a -> a.sequence() == latest.sequence()); // one hash per sequence
    kept.add(latest);
    return List.copyOf(kept.subList(Math.max(0, kept.size() - HISTORY), kept.size()));
  }

  private Sequences readSequences() throws IOException {
    Sequences read = JsonFiles.read(sequencesFile, Sequences.class)
        .orElse(Sequences.empty());
    if (read.version() != Sequences.VERSION) {
      throw new IOException(sequencesFile + " has format version " + read.version()
          + "; this host understands " + Sequences.VERSION);
    }
    return read;
  }
}
