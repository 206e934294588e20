package io.infraveil.certs;

import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * TLS 1.3 session-ticket keys for a server context, so that a host reconnecting with a ticket
 * resumes its session (no certificate exchange, no signature) instead of a full handshake. The
 * keys are derived from a secret kept in a file (mode 0600), so tickets issued before a restart
 * of the server still resume after it: the reconnect storm that follows a restart is then made
 * of resumptions. Keys rotate every {@link #ROTATION}; the previous key still decrypts, so a
 * ticket stays usable for at least one rotation period, longer than {@link #SESSION_LIFETIME}.
 *
 * <p>A resumed session carries the client certificate of its first handshake, so checks made
 * on every call (revocation, identity) still see it; what a resumption skips is only the
 * handshake's own certificate checks, for at most {@link #SESSION_LIFETIME} after them.
 *
 * <p>Only BoringSSL contexts take keys; the JDK's provider keeps its own in memory.
 */
public final class SessionTickets {

  /** How long a session may be resumed after its full handshake. */
  public static final Duration SESSION_LIFETIME = Duration.ofHours(1);
  /** How often the ticket key changes. */
  public static final Duration ROTATION = Duration.ofHours(12);

  private static final int SECRET_BYTES = 32;

  private final byte[] secret;

  private SessionTickets(byte[] secret) {
    this.secret = secret.clone();
  }

  /** Reads the secret in {@code file}, or makes one there (mode 0600) when it does not exist. */
  public static SessionTickets loadOrCreate(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    if (Files.exists(file)) {
      byte[] secret = Files.readAllBytes(file);
      if (secret.length != SECRET_BYTES) {
        throw new IOException(file + " holds " + secret.length + " bytes, not a " + SECRET_BYTES
            + "-byte session-ticket secret: delete it and a new one is made (open sessions then do "
            + "a full handshake once)");
      }
      return new SessionTickets(secret);
    }
    byte[] secret = new byte[SECRET_BYTES];
    new SecureRandom().nextBytes(secret);
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path temp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.write(temp, secret);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temp);
    }
    return new SessionTickets(secret);
  }

  /**
   * Gives {@code context} the keys for {@code now}: the current one (which encrypts new
   * tickets) and the previous one (which still decrypts). Call again at least every
   * {@link #ROTATION}. Returns false for a context that does not take keys (the JDK's).
   */
  public boolean applyTo(SslContext context, Instant now) {
    if (!(context.sessionContext() instanceof OpenSslSessionContext sessions)) {
      return false;
    }
    long period = Math.floorDiv(now.getEpochSecond(), ROTATION.toSeconds());
    sessions.setTicketKeys(key(period), key(period - 1));
    return true;
  }

  private OpenSslSessionTicketKey key(long period) {
    return new OpenSslSessionTicketKey(derive(period, "name", OpenSslSessionTicketKey.NAME_SIZE),
        derive(period, "hmac", OpenSslSessionTicketKey.HMAC_KEY_SIZE),
        derive(period, "aes", OpenSslSessionTicketKey.AES_KEY_SIZE));
  }

  private byte[] derive(long period, String purpose, int length) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      byte[] out = mac.doFinal(("infraveil tls session ticket v1 " + period + " " + purpose)
          .getBytes(StandardCharsets.US_ASCII));
      return Arrays.copyOf(out, length);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
    }
  }
}
