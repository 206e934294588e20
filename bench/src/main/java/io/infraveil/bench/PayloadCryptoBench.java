package io.infraveil.bench;

import io.infraveil.payload.seal.DataKeys;
import io.infraveil.payload.seal.RecordFormat;
import io.infraveil.payload.seal.RecordOpener;
import io.infraveil.payload.seal.RecordSealer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Sealing and opening throughput of the payload record format (AES-256-GCM, 64 KiB records,
 * SHA-256 on the way), measured after a warm-up so C2 has compiled the hot path. Prints MB/s.
 */
public final class PayloadCryptoBench {

  /**
   * Median throughputs over the measured rounds, beside the same run's OpenSSL figures (0 where
   * openssl is not installed) and the JDK's SHA-256 alone over the same bytes.
   */
  public record Result(int megabytes, double sealMbPerSecond, double openMbPerSecond,
      double opensslAesGcmMbPerSecond, double opensslSha256MbPerSecond,
      double opensslDgstMbPerSecond, double jdkSha256MbPerSecond) {
    /** The limit of open + verify: the slower of OpenSSL's AES-256-GCM and SHA-256. */
    public double limitMbPerSecond() {
      return Math.min(opensslAesGcmMbPerSecond, opensslSha256MbPerSecond);
    }

    public String describe() {
      return String.format(java.util.Locale.ROOT, "payload crypto, %d MiB: seal %.0f MB/s,"
              + " open+verify %.0f MB/s (median)%n"
              + "  openssl speed aes-256-gcm %.0f MB/s, sha256 %.0f MB/s; openssl dgst -sha256"
              + " over the same bytes %.0f MB/s; JDK SHA-256 alone %.0f MB/s%n"
              + "  open+verify / the slower openssl speed figure: %.2f (goal >= 0.9)",
          megabytes, sealMbPerSecond, openMbPerSecond, opensslAesGcmMbPerSecond,
          opensslSha256MbPerSecond, opensslDgstMbPerSecond, jdkSha256MbPerSecond,
          limitMbPerSecond() > 0 ? openMbPerSecond / limitMbPerSecond() : 0);
    }
  }

  private PayloadCryptoBench() {}

  public static void main(String[] args) throws Exception {
    int megabytes = args.length > 0 ? Integer.parseInt(args[0]) : 64;
    System.out.println(run(megabytes, 3, 5).describe());
  }

  public static Result run(int megabytes, int warmups, int rounds) throws Exception {
    SecureRandom random = new SecureRandom();
    byte[] plaintext = new byte[megabytes * 1024 * 1024];
    random.nextBytes(plaintext);
    var key = DataKeys.newDataKey(random);
    byte[] prefix = RecordFormat.newNoncePrefix(random);
    int recordSize = RecordFormat.DEFAULT_RECORD_SIZE;
    byte[] ciphertext = null;
    List<Double> seal = new ArrayList<>();
    List<Double> open = new ArrayList<>();
    for (int round = 0; round < warmups + rounds; round++) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(plaintext.length + plaintext.length / 1000);
      long start = System.nanoTime();
      RecordSealer.seal(new ByteArrayInputStream(plaintext), out, key, prefix, recordSize);
      long sealed = System.nanoTime();
      ciphertext = out.toByteArray();
      RecordOpener.open(new ByteArrayInputStream(ciphertext), OutputStream.nullOutputStream(), key, prefix,
          recordSize, plaintext.length);
      long opened = System.nanoTime();
      if (round >= warmups) {
        seal.add(plaintext.length / 1e6 / ((sealed - start) / 1e9));
        open.add(plaintext.length / 1e6 / ((opened - sealed) / 1e9));
      }
    }
    Collections.sort(seal);
    Collections.sort(open);
    double jdkSha = 0;
    for (int round = 0; round < 3; round++) {
      long start = System.nanoTime();
      io.infraveil.payload.Sha256Hex.newDigest().digest(plaintext);
      jdkSha = Math.max(jdkSha, plaintext.length / 1e6 / ((System.nanoTime() - start) / 1e9));
    }
    return new Result(megabytes, seal.get(seal.size() / 2), open.get(open.size() / 2),
        OpensslAnchor.aesGcmMbPerSecond(), OpensslAnchor.sha256SpeedMbPerSecond(),
        OpensslAnchor.sha256MbPerSecond(plaintext), jdkSha);
  }
}
