package io.infraveil.controlplane.payloads;

import io.grpc.Status;
import io.infraveil.appconfig.AppConfig;
import io.infraveil.appconfig.AppConfigParser;
import io.infraveil.appconfig.ConfigException;
import io.infraveil.controlplane.MasterKey;
import io.infraveil.controlplane.store.PayloadStore;
import io.infraveil.controlplane.store.PayloadStore.PayloadRecord;
import io.infraveil.controlplane.store.StoreException;
import io.infraveil.payload.Sha256Hex;
import io.infraveil.payload.archive.ExtractionLimits;
import io.infraveil.payload.archive.InvalidArchiveException;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.payload.seal.DataKeys;
import io.infraveil.payload.seal.RecordFormat;
import io.infraveil.payload.seal.RecordSealer;
import io.infraveil.payload.seal.SealResult;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.crypto.SecretKey;

/**
 * Takes an uploaded {@code .tar.gz}: spools it (mode 0600, deleted as soon as it is sealed),
 * refuses what a host would refuse to extract (with the host's message) and validates its
 * {@code config.yaml} before anything is stored, seals it with a fresh data key
 * in 64 KiB records, and stores the ciphertext in the database's chunk rows under the SHA-256 of
 * its plaintext. The spool is this control plane's scratch space, never the truth.
 */
@Singleton
public final class PayloadIntake {

  /** What an upload produced. */
  public record Stored(PayloadRecord payload, boolean alreadyStored, Map<String, Integer> instancesByService) {}

  private final PayloadFiles files;
  private final PayloadStore store;
  private final MasterKey masterKey;
  private final SecureRandom random;
  private final Clock clock;
  private final long maxUploadBytes;
  private final ExtractionLimits extractionLimits;

  /**
   * {@code infraveil.max-extracted-bytes} and {@code infraveil.max-archive-entries} must match
   * the hosts' extraction limits (both default to {@link ExtractionLimits#DEFAULT}).
   */
  public PayloadIntake(PayloadFiles files, PayloadStore store, MasterKey masterKey, SecureRandom random,
      Clock clock, @Value("${infraveil.max-payload-bytes:536870912}") long maxUploadBytes,
      @Value("${infraveil.max-extracted-bytes:1073741824}") long maxExtractedBytes,
      @Value("${infraveil.max-archive-entries:100000}") int maxArchiveEntries) {
    this.extractionLimits = new ExtractionLimits(maxExtractedBytes, maxArchiveEntries);
    this.files = files;
    this.store = store;
    this.masterKey = masterKey;
    this.random = random;
    this.clock = clock;
    this.maxUploadBytes = maxUploadBytes;
  }

  /** Starts an upload; the caller writes chunks, then finishes or aborts it. */
  public Upload begin(String versionLabel, String sourceName, String uploadedBy) throws IOException {
    Path spool = Files.createTempFile(files.uploadsDir(), "upload-", ".tgz",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    return new Upload(spool, versionLabel, sourceName, uploadedBy);
  }

  /** The master-key context under which a payload's data key is sealed. */
  public static String dataKeyContext(String sha256) {
    return "payload-data-key:" + sha256;
  }

  /** One upload in flight. Not thread-safe: gRPC delivers a stream's messages in order. */
  public final class Upload {
    private final Path spool;
    private final String versionLabel;
    private final String sourceName;
    private final String uploadedBy;
    private final MessageDigest digest = Sha256Hex.newDigest();
    private final OutputStream out;
    private long size;

    private Upload(Path spool, String versionLabel, String sourceName, String uploadedBy) throws IOException {
      this.spool = spool;
      this.versionLabel = versionLabel;
      this.sourceName = sourceName == null || sourceName.isBlank() ? "upload" : sourceName;
      this.uploadedBy = uploadedBy;
      this.out = new DigestOutputStream(Files.newOutputStream(spool, StandardOpenOption.WRITE), digest);
    }

    public void write(byte[] chunk) throws IOException {
      size += chunk.length;
      if (size > maxUploadBytes) {
        throw Status.RESOURCE_EXHAUSTED.withDescription("payload " + sourceName + " exceeds the limit of "
            + maxUploadBytes + " bytes (infraveil.max-payload-bytes)").asRuntimeException();
      }
      out.write(chunk);
    }

    /** Validates and stores; throws INVALID_ARGUMENT naming config.yaml, line and field. */
    public Stored finish() throws IOException {
      try {
        out.close();
        String sha256 = Sha256Hex.format(digest.digest());
        AppConfig config = validate();
        Map<String, Integer> instances = new java.util.LinkedHashMap<>();
        config.services().forEach((name, spec) -> instances.put(name, spec.instances()));
        var existing = store.find(sha256);
        if (existing.isPresent()) {
          return new Stored(existing.get(), true, instances);
        }
        return seal(sha256, instances);
      } finally {
        Files.deleteIfExists(spool);
      }
    }

    public void abort() {
      try {
        out.close();
        Files.deleteIfExists(spool);
      } catch (IOException ignored) {
        // The spool directory is emptied at the next start.
      }
    }

    private AppConfig validate() throws IOException {
      if (size == 0) {
        throw Status.INVALID_ARGUMENT.withDescription("payload " + sourceName + " is empty: upload a "
            + ".tar.gz of an application directory with config.yaml at its root").asRuntimeException();
      }
      byte[] yaml;
      try (InputStream in = Files.newInputStream(spool)) {
        // The same rules, and messages, as every host's extraction: refused here, not on each host.
        yaml = PayloadArchive.check(in, extractionLimits);
      } catch (InvalidArchiveException e) {
        throw Status.INVALID_ARGUMENT.withDescription("payload " + sourceName + " refused, nothing was "
            + "stored or deployed; hosts would refuse to extract it: " + e.getMessage()).withCause(e)
            .asRuntimeException();
      } catch (IOException e) {
        throw Status.INVALID_ARGUMENT.withDescription("payload " + sourceName + " is not a usable .tar.gz: "
            + e.getMessage()).withCause(e).asRuntimeException();
      }
      try {
        return AppConfigParser.parse("config.yaml", yaml);
      } catch (ConfigException e) {
        throw Status.INVALID_ARGUMENT.withDescription("payload " + sourceName + " refused, nothing was "
            + "stored or deployed:\n" + e.getMessage()).asRuntimeException();
      }
    }

    /**
     * Seals the spooled upload straight into the database's chunk rows; the payload row commits
     * with them. Two control planes storing the same content at once: one wins, the other
     * answers with what the winner stored.
     */
    private Stored seal(String sha256, Map<String, Integer> instances) throws IOException {
      SecretKey dataKey = DataKeys.newDataKey(random);
      byte[] noncePrefix = RecordFormat.newNoncePrefix(random);
      PayloadRecord[] stored = new PayloadRecord[1];
      try {
        store.insertWithCiphertext(sha256, cipherOut -> {
          SealResult sealed;
          try (InputStream in = Files.newInputStream(spool)) {
            sealed = RecordSealer.seal(in, cipherOut, dataKey, noncePrefix, RecordFormat.DEFAULT_RECORD_SIZE);
          }
          if (!sealed.sha256Hex().equals(sha256)) {
            throw new IOException("the spooled upload changed while it was sealed (" + sha256 + " vs "
                + sealed.sha256Hex() + "); upload again");
          }
          List<String> services = new ArrayList<>();
          instances.forEach((name, count) -> services.add(name + "=" + count));
          stored[0] = new PayloadRecord(sha256, sealed.plaintextSize(), sealed.ciphertextSize(),
              RecordFormat.DEFAULT_RECORD_SIZE, noncePrefix,
              masterKey.seal(dataKey.getEncoded(), dataKeyContext(sha256)),
              versionLabel == null || versionLabel.isBlank() ? sha256.substring(0, 12) : versionLabel,
              services, uploadedBy, clock.instant());
          return stored[0];
        });
      } catch (StoreException | IOException e) {
        // A primary key taken by the same content stored meanwhile (a chunk row fails first).
        var winner = store.find(sha256);
        if (winner.isPresent()) {
          return new Stored(winner.get(), true, instances);
        }
        throw e;
      }
      return stored[0] == null ? new Stored(store.find(sha256).orElseThrow(), true, instances)
          : new Stored(stored[0], false, instances);
    }
  }
}
