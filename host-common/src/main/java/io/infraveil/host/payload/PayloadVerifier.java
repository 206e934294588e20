package io.infraveil.host.payload;

import io.infraveil.payload.PayloadRejectedException;
import io.infraveil.payload.RejectionReason;
import io.infraveil.payload.seal.KeyWrap;
import io.infraveil.payload.seal.RecordFormat;
import io.infraveil.payload.seal.RecordOpener;
import io.infraveil.payload.trust.HostKeys;
import io.infraveil.payload.trust.PayloadMac;
import io.infraveil.proto.v1.FetchHeader;
import io.infraveil.proto.v1.PayloadRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import javax.crypto.SecretKey;

/**
 * The trust chain over files, no network: the header must name the desired deployment,
 * sequence, hash and size; the host MAC must verify; pinned publisher signatures (when any)
 * must verify; the data key must unwrap for this hash; every record must open; the plaintext
 * must hash to the desired SHA-256. A failed check is a {@link Verification} value.
 */
public final class PayloadVerifier {

  private final HostKeys keys;
  private final PublisherTrust publishers;

  public PayloadVerifier(HostKeys keys, PublisherTrust publishers) {
    this.keys = Objects.requireNonNull(keys, "keys");
    this.publishers = Objects.requireNonNull(publishers, "publishers");
  }

  /** Everything that can be checked before downloading: fields, MAC, signatures, key unwrap. */
  public Verification checkHeader(String deployment, PayloadRef desired, FetchHeader header)
      throws IOException {
    return checkHeader(deployment, desired, header, PayloadOrigin.CONTROL_PLANE);
  }

  /** As above, for a payload chosen by {@code origin} (see {@link PayloadOrigin}). */
  public Verification checkHeader(String deployment, PayloadRef desired, FetchHeader header,
      PayloadOrigin origin) throws IOException {
    try {
      unwrapChecked(deployment, desired, header, origin);
      return Verification.ok();
    } catch (PayloadRejectedException e) {
      return Verification.of(e);
    }
  }

  /** The whole chain over a ciphertext file; the plaintext is only hashed, never kept. */
  public Verification verify(String deployment, PayloadRef desired, FetchHeader header,
      Path ciphertext) throws IOException {
    return verify(deployment, desired, header, ciphertext, PayloadOrigin.CONTROL_PLANE);
  }

  /** As above, for a payload chosen by {@code origin} (see {@link PayloadOrigin}). */
  public Verification verify(String deployment, PayloadRef desired, FetchHeader header,
      Path ciphertext, PayloadOrigin origin) throws IOException {
    try (InputStream in = Files.newInputStream(ciphertext)) {
      open(deployment, desired, header, in, OutputStream.nullOutputStream(), origin);
      return Verification.ok();
    } catch (PayloadRejectedException e) {
      return Verification.of(e);
    }
  }

  /**
   * The whole chain, writing the plaintext to {@code plaintext} as records open. What was
   * written is untrusted unless this returns normally.
   */
  void open(String deployment, PayloadRef desired, FetchHeader header, InputStream ciphertext,
      OutputStream plaintext) throws IOException, PayloadRejectedException {
    open(deployment, desired, header, ciphertext, plaintext, PayloadOrigin.CONTROL_PLANE);
  }

  private void open(String deployment, PayloadRef desired, FetchHeader header,
      InputStream ciphertext, OutputStream plaintext, PayloadOrigin origin)
      throws IOException, PayloadRejectedException {
    SecretKey dataKey = unwrapChecked(deployment, desired, header, origin);
    RecordOpener.open(ciphertext, plaintext, dataKey, header.getNoncePrefix().toByteArray(),
        header.getRecordSize(), desired.getSize()).requireSha256(desired.getSha256());
  }

  private SecretKey unwrapChecked(String deployment, PayloadRef desired, FetchHeader header,
      PayloadOrigin origin) throws PayloadRejectedException, IOException {
    Objects.requireNonNull(deployment, "deployment");
    Objects.requireNonNull(desired, "desired");
    Objects.requireNonNull(header, "header");
    checkFields(deployment, desired, header);
    PayloadMac.verify(keys.macKey(), deployment, desired.getSequence(), desired.getSha256(),
        header.getHmac().toByteArray());
    publishers.check(header, origin);
    return KeyWrap.unwrap(keys.wrapKey(), header.getWrappedKey().toByteArray(),
        desired.getSha256());
  }

  /** Pure comparisons; the MAC covers deployment, sequence and hash, sizes are checked here. */
  static void checkFields(String deployment, PayloadRef desired, FetchHeader header)
      throws PayloadRejectedException {
    PayloadRef served = header.getPayload();
    if (!header.getDeployment().equals(deployment)) {
      throw new PayloadRejectedException(RejectionReason.MAC_MISMATCH,
          "header is for deployment '" + header.getDeployment() + "', expected '" + deployment
              + "'; its MAC and key were not issued for this deployment");
    }
    if (!served.getSha256().equals(desired.getSha256())) {
      throw new PayloadRejectedException(RejectionReason.HASH_MISMATCH,
          "header names sha256 " + served.getSha256() + ", the desired state names "
              + desired.getSha256());
    }
    if (served.getSequence() != desired.getSequence()) {
      throw new PayloadRejectedException(RejectionReason.MAC_MISMATCH,
          "header is for sequence " + served.getSequence() + ", the desired state names "
              + desired.getSequence() + "; its MAC was not issued for this version");
    }
    if (served.getSize() != desired.getSize()) {
      throw new PayloadRejectedException(RejectionReason.SIZE_MISMATCH,
          "header names a plaintext of " + served.getSize() + " bytes, the desired state "
              + desired.getSize());
    }
    if (header.getNoncePrefix().size() != RecordFormat.NONCE_PREFIX_LENGTH
        || header.getRecordSize() < 1 || header.getRecordSize() > RecordFormat.MAX_RECORD_SIZE
        || desired.getSize() < 0) {
      throw new PayloadRejectedException(RejectionReason.DECRYPT_FAILED,
          "header describes no valid record stream (record size " + header.getRecordSize()
              + ", nonce prefix of " + header.getNoncePrefix().size() + " bytes)");
    }
    long expected;
    try {
      expected = RecordFormat.ciphertextSize(desired.getSize(), header.getRecordSize());
    } catch (IllegalArgumentException e) {
      throw new PayloadRejectedException(RejectionReason.SIZE_MISMATCH, e.getMessage(), e);
    }
    if (header.getCiphertextSize() != expected) {
      throw new PayloadRejectedException(RejectionReason.SIZE_MISMATCH,
          "header names " + header.getCiphertextSize() + " ciphertext bytes; a plaintext of "
              + desired.getSize() + " bytes in records of " + header.getRecordSize()
              + " seals to " + expected);
    }
  }
}
