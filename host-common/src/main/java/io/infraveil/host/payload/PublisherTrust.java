package io.infraveil.host.payload;

import io.infraveil.host.fs.JsonFiles;
import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.trust.PublisherKeys;
import io.infraveil.payload.trust.PublisherSignature;
import io.infraveil.payload.trust.PublisherSignatures;
import io.infraveil.proto.v1.FetchHeader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Step 4 of the trust chain, active only when the operator pinned publisher keys on the host
 * ({@code DATA/identity/publishers.pem}): then every payload needs a signature from a pinned
 * key, and a deployment's sequence may not go below the highest one accepted before (kept in
 * {@code DATA/cache/sequences.json}), so an old signed version cannot be replayed.
 */
public final class PublisherTrust {

  /** On-disk form of the accepted sequences; {@code version} names the format. */
  record Sequences(int version, Map<String, Long> highest) {
    static final int VERSION = 1;

    Sequences {
      highest = highest == null ? Map.of() : Map.copyOf(highest);
    }
  }

  private static final PublisherTrust NONE = new PublisherTrust(List.of(), null);

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
    Long highest = readSequences().highest().get(deployment);
    if (highest != null && sequence < highest) {
      throw new PayloadRejectedException(RejectionReason.STALE_SEQUENCE,
          "deployment '" + deployment + "' sequence " + sequence
              + " is older than sequence " + highest + " already accepted on this host");
    }
  }

  /** Remembers {@code sequence} as accepted when it is the highest so far. */
  void recordAccepted(String deployment, long sequence) throws IOException {
    if (!required()) {
      return;
    }
    Sequences current = readSequences();
    Long highest = current.highest().get(deployment);
    if (highest != null && highest >= sequence) {
      return;
    }
    Map<String, Long> next = new TreeMap<>(current.highest());
    next.put(deployment, sequence);
    JsonFiles.write(sequencesFile, new Sequences(Sequences.VERSION, next));
  }

  private Sequences readSequences() throws IOException {
    Sequences read = JsonFiles.read(sequencesFile, Sequences.class)
        .orElse(new Sequences(Sequences.VERSION, Map.of()));
    if (read.version() != Sequences.VERSION) {
      throw new IOException(sequencesFile + " has format version " + read.version()
          + "; this host understands " + Sequences.VERSION);
    }
    return read;
  }
}
