package io.infraveil.certs;

import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Revoked certificate serials (lower-case hex). Checked on every call, not only at handshake. */
public final class RevocationList {

  private final Set<String> serials = ConcurrentHashMap.newKeySet();

  public RevocationList() {}

  public RevocationList(Collection<String> revokedSerials) {
    revokedSerials.forEach(this::revoke);
  }

  public void revoke(String serialHex) {
    serials.add(normalize(serialHex));
  }

  public boolean isRevoked(X509Certificate certificate) {
    return serials.contains(certificate.getSerialNumber().toString(16));
  }

  public boolean isRevoked(String serialHex) {
    return serials.contains(normalize(serialHex));
  }

  public int size() {
    return serials.size();
  }

  private static String normalize(String serialHex) {
    return new BigInteger(serialHex, 16).toString(16);
  }
}
