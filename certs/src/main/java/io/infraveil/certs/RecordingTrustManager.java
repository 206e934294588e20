package io.infraveil.certs;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The server's trust in client certificates: the JDK's PKIX checks against the installation's
 * CA, plus a report of every certificate it refuses (another CA, expired, malformed), so that a
 * refused handshake, which never reaches a gRPC interceptor, still becomes a security event.
 */
public final class RecordingTrustManager extends X509ExtendedTrustManager {

  /** A client certificate the handshake refused, and why. */
  public record RefusedClient(String subject, String identity, String serialHex, String reason, String peer) {}

  private final X509ExtendedTrustManager delegate;
  private final Consumer<RefusedClient> onRefused;

  public RecordingTrustManager(List<X509Certificate> trustedCas, Consumer<RefusedClient> onRefused) {
    this.onRefused = Objects.requireNonNull(onRefused, "onRefused");
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      for (int i = 0; i < trustedCas.size(); i++) {
        store.setCertificateEntry("ca-" + i, trustedCas.get(i));
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      X509ExtendedTrustManager found = null;
      for (TrustManager manager : factory.getTrustManagers()) {
        if (manager instanceof X509ExtendedTrustManager x509) {
          found = x509;
        }
      }
      this.delegate = Objects.requireNonNull(found, "the JDK offers no X509ExtendedTrustManager");
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot build a trust manager for the CA", e);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    try {
      delegate.checkClientTrusted(chain, authType, engine);
    } catch (CertificateException e) {
      report(chain, e, engine == null || engine.getPeerHost() == null ? null
          : engine.getPeerHost() + ":" + engine.getPeerPort());
      throw e;
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    try {
      delegate.checkClientTrusted(chain, authType, socket);
    } catch (CertificateException e) {
      report(chain, e, socket == null ? null : String.valueOf(socket.getRemoteSocketAddress()));
      throw e;
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    try {
      delegate.checkClientTrusted(chain, authType);
    } catch (CertificateException e) {
      report(chain, e, null);
      throw e;
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    delegate.checkServerTrusted(chain, authType, engine);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate.checkServerTrusted(chain, authType, socket);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    delegate.checkServerTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return delegate.getAcceptedIssuers();
  }

  private void report(X509Certificate[] chain, CertificateException e, String peer) {
    X509Certificate leaf = chain == null || chain.length == 0 ? null : chain[0];
    // The outer message says which check failed ("validity check failed", "unable to find valid
    // certification path"); the innermost cause says the detail (the NotAfter date).
    String reason = String.valueOf(e.getMessage()).replaceAll("[a-z.]+\\.[A-Za-z]+Exception: ", "");
    Throwable innermost = e;
    while (innermost.getCause() != null) {
      innermost = innermost.getCause();
    }
    if (innermost != e && innermost.getMessage() != null && !reason.contains(innermost.getMessage())) {
      reason = reason + " (" + innermost.getMessage() + ")";
    }
    try {
      onRefused.accept(new RefusedClient(
          leaf == null ? null : leaf.getSubjectX500Principal().getName(),
          leaf == null ? null : PeerIdentity.identityOf(leaf).map(Identity::uri).orElse(null),
          leaf == null ? null : leaf.getSerialNumber().toString(16),
          reason, peer));
    } catch (RuntimeException ignored) {
      // Reporting must never change the handshake's outcome.
    }
  }
}
