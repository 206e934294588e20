package io.infraveil.host.payload;

import com.google.protobuf.ByteString;
import io.infraveil.payload.archive.PayloadArchive;
import io.infraveil.payload.seal.DataKeys;
import io.infraveil.payload.seal.KeyWrap;
import io.infraveil.payload.seal.RecordFormat;
import io.infraveil.payload.seal.RecordSealer;
import io.infraveil.payload.seal.SealResult;
import io.infraveil.payload.trust.HostKeys;
import io.infraveil.payload.trust.PayloadMac;
import io.infraveil.proto.v1.FetchHeader;
import io.infraveil.proto.v1.PayloadRef;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Random;
import javax.crypto.SecretKey;

/** Genuinely sealed payloads, made the way the control plane makes them. */
final class TestPayloads {

  static final int RECORD_SIZE = 4096;
  static final byte[] HOST_SECRET = new byte[32];
  static final HostKeys KEYS;

  static {
    new Random(7).nextBytes(HOST_SECRET);
    KEYS = HostKeys.fromSecret(HOST_SECRET);
  }

  /** A sealed payload and the header the control plane sends this host for one deployment. */
  record Sealed(byte[] plaintext, byte[] ciphertext, SecretKey dataKey, byte[] noncePrefix,
      PayloadRef ref) {
    String sha() {
      return ref.getSha256();
    }

    FetchHeader header(String deployment) {
      return headerFor(deployment, ref, KEYS);
    }

    FetchHeader headerFor(String deployment, PayloadRef claimed, HostKeys keys) {
      return FetchHeader.newBuilder()
          .setDeployment(deployment)
          .setPayload(claimed)
          .setCiphertextSize(ciphertext.length)
          .setRecordSize(RECORD_SIZE)
          .setNoncePrefix(ByteString.copyFrom(noncePrefix))
          .setWrappedKey(ByteString.copyFrom(KeyWrap.wrap(keys.wrapKey(), dataKey,
              claimed.getSha256(), new SecureRandom())))
          .setHmac(ByteString.copyFrom(PayloadMac.compute(keys.macKey(), deployment,
              claimed.getSequence(), claimed.getSha256())))
          .build();
    }
  }

  private TestPayloads() {}

  /** An application with config.yaml, a script and an incompressible blob of {@code blobBytes}. */
  static Sealed app(Path workDir, String name, int blobBytes, long sequence) throws IOException {
    Path app = Files.createDirectories(workDir.resolve("src-" + name));
    Files.writeString(app.resolve("config.yaml"),
        "services:\n  " + name + ":\n    run:\n      start: [ \"./run.sh\" ]\n");
    Files.writeString(app.resolve("run.sh"), "#!/bin/sh\necho " + name + "\n");
    Files.setPosixFilePermissions(app.resolve("run.sh"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    byte[] blob = new byte[blobBytes];
    new Random(name.hashCode()).nextBytes(blob);
    Files.createDirectories(app.resolve("lib"));
    Files.write(app.resolve("lib/blob.bin"), blob);
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    PayloadArchive.pack(app, tar);
    return seal(tar.toByteArray(), sequence);
  }

  static Sealed seal(byte[] plaintext, long sequence) throws IOException {
    SecureRandom random = new SecureRandom();
    SecretKey key = DataKeys.newDataKey(random);
    byte[] prefix = RecordFormat.newNoncePrefix(random);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SealResult result = RecordSealer.seal(new ByteArrayInputStream(plaintext), out, key, prefix,
        RECORD_SIZE);
    PayloadRef ref = PayloadRef.newBuilder().setSha256(result.sha256Hex())
        .setSize(result.plaintextSize()).setSequence(sequence).setVersion("v" + sequence).build();
    return new Sealed(plaintext, out.toByteArray(), key, prefix, ref);
  }
}
