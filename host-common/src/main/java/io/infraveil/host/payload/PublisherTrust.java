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
 * {@code DATA/cache/sequences.json}.
 */
public final class PublisherTrust {

  /**
   * On-disk form of the accepted sequences; {@code version} names the format. {@code sha256}
   * (the hash accepted at the highest sequence) was added within format 1: a file without it
   * accepts any hash at the highest sequence, as before.
   */
  record Sequences(int version, Map<String, Long> highest, Map<String, String> sha256) {
    static final int VERSION = 1;

    Sequences {
      highest = highest == null ? Map.of() : Map.copyOf(highest);
      sha256 = sha256 == null ? Map.of() : Map.copyOf(sha256);
    }
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
  void check(FetchHeader header) throws PayloadRejectedException, IOException {
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
    checkSequence(deployment, sequence, header.getPayload().getSha256());
  }

  /**
   * Refuses a replay before anything is fetched or read: a sequence below the highest accepted
   * for the deployment, or the highest sequence naming another hash. Does nothing when no key
   * is pinned.
   */
  void checkSequence(String deployment, long sequence, String sha256)
      throws PayloadRejectedException, IOException {
    if (!required()) {
      return;
    }
    Sequences accepted = readSequences();
    Long highest = accepted.highest().get(deployment);
    if (highest == null || sequence > highest) {
      return;
    }
    if (sequence < highest) {
      throw new PayloadRejectedException(RejectionReason.STALE_SEQUENCE,
          "deployment '" + deployment + "' sequence " + sequence + " is older than sequence "
              + highest + " already accepted on this host: an old signed version cannot be"
              + " replayed as new; deploy it again signed with a higher sequence");
    }
    String acceptedSha = accepted.sha256().get(deployment);
    if (acceptedSha != null && !acceptedSha.equals(sha256)) {
      throw new PayloadRejectedException(RejectionReason.STALE_SEQUENCE,
          "deployment '" + deployment + "' sequence " + sequence + " was accepted on this host"
              + " for sha256 " + acceptedSha + ", not " + sha256 + ": one sequence names one"
              + " version; sign the new one with a higher sequence");
    }
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
    JsonFiles.write(sequencesFile, new Sequences(Sequences.VERSION, next, hashes));
  }

  private Sequences readSequences() throws IOException {
    Sequences read = JsonFiles.read(sequencesFile, Sequences.class)
        .orElse(new Sequences(Sequences.VERSION, Map.of(), Map.of()));
    if (read.version() != Sequences.VERSION) {
      throw new IOException(sequencesFile + " has format version " + read.version()
          + "; this host understands " + Sequences.VERSION);
    }
    return read;
  }
}
