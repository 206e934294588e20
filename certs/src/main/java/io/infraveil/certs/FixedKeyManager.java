package io.infraveil.certs;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * A client key manager that presents one certificate chain and key. Netty given a bare key and
 * chain puts them in a password-protected PKCS#12 key store and reads them back, two rounds of
 * PBKDF2 with 10,000 iterations each: about a tenth of a short {@code ctl} command's run. This
 * hands them over as they are, as {@link ReloadingKeyManager} does for the host programs.
 */
final class FixedKeyManager extends ClientIdentityKeyManager {

  private final X509Certificate[] chain;
  private final PrivateKey key;

  FixedKeyManager(PrivateKey key, List<X509Certificate> chain) {
    this.key = Objects.requireNonNull(key, "key");
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("a client certificate chain needs at least one certificate");
    }
    this.chain = chain.toArray(X509Certificate[]::new);
  }

  @Override
  X509Certificate[] chain() {
    return chain.clone();
  }

  @Override
  PrivateKey key() {
    return key;
  }
}
