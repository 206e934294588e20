package io.infraveil.certs;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A client-side key manager with exactly one identity: it offers that certificate chain and key
 * whatever issuers the server names (the server's own check decides), and never serves. The
 * subclasses say where the pair comes from.
 */
public abstract class ClientIdentityKeyManager extends X509ExtendedKeyManager {

  private static final String ALIAS = "infraveil";

  /** The chain presented now, leaf first. */
  abstract X509Certificate[] chain();

  /** The key of {@link #chain()}'s leaf. */
  abstract PrivateKey key();

  @Override
  public final String[] getClientAliases(String keyType, Principal[] issuers) {
    return new String[] {ALIAS};
  }

  @Override
  public final String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return ALIAS;
  }

  @Override
  public final String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    return ALIAS;
  }

  @Override
  public final String[] getServerAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public final String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public final X509Certificate[] getCertificateChain(String alias) {
    return chain();
  }

  @Override
  public final PrivateKey getPrivateKey(String alias) {
    return key();
  }
}
