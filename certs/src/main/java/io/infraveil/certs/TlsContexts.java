package io.infraveil.certs;

import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * Netty TLS contexts for gRPC, built in one place. Servers trust only the installation's CA
 * and ask every client for a certificate; clients trust only the CA. Every context uses the
 * provider {@link TlsProvider} chose (BoringSSL where it loads, else the JDK).
 */
public final class TlsContexts {

  private TlsContexts() {}

  /**
   * A server context. {@code clientAuth} is REQUIRE for ports that serve only identified
   * callers; OPTIONAL where one port also serves enrollment (the authorization interceptor
   * then refuses every other call that comes without a certificate).
   */
  public static SslContext server(List<X509Certificate> chain, PrivateKey key,
      List<X509Certificate> trustedCas, ClientAuth clientAuth) throws SSLException {
    return GrpcSslContexts.configure(SslContextBuilder.forServer(key, chain), TlsProvider.chosen())
        .trustManager(trustedCas)
        .clientAuth(clientAuth)
        .sessionTimeout(SessionTickets.SESSION_LIFETIME.toSeconds())
        .build();
  }

  /**
   * A server context like {@link #server(List, PrivateKey, List, ClientAuth)} that also reports
   * every client certificate the handshake refuses.
   */
  public static SslContext server(List<X509Certificate> chain, PrivateKey key,
      List<X509Certificate> trustedCas, ClientAuth clientAuth,
      java.util.function.Consumer<RecordingTrustManager.RefusedClient> onRefused) throws SSLException {
    return GrpcSslContexts.configure(SslContextBuilder.forServer(key, chain), TlsProvider.chosen())
        .trustManager(new RecordingTrustManager(trustedCas, onRefused))
        .clientAuth(clientAuth)
        .sessionTimeout(SessionTickets.SESSION_LIFETIME.toSeconds())
        .build();
  }

  private static SslContextBuilder forClient() {
    // Sessions are cached per server host:port, so a reconnect resumes (see SessionTickets).
    return GrpcSslContexts.configure(SslContextBuilder.forClient(), TlsProvider.chosen())
        .sessionTimeout(SessionTickets.SESSION_LIFETIME.toSeconds());
  }

  /** A client context presenting {@code chain}/{@code key}; both null for an anonymous client. */
  public static SslContext client(List<X509Certificate> trustedCas, List<X509Certificate> chain,
      PrivateKey key) throws SSLException {
    SslContextBuilder builder = forClient().trustManager(trustedCas);
    if (chain != null && key != null) {
      builder.keyManager(new FixedKeyManager(key, chain));
    }
    return builder.build();
  }

  /**
   * A client context whose certificate follows the files on disk (see
   * {@link ReloadingKeyManager}): a renewed certificate is used from the next handshake on.
   */
  public static SslContext reloadingClient(Path caFile, Path certFile, Path keyFile) throws IOException {
    return forClient()
        .trustManager(JdkPem.certificatesOrPem(caFile))
        .keyManager(new ReloadingKeyManager(certFile, keyFile))
        .build();
  }

  /**
   * A client context from PEM files: the CA bundle, and a certificate and key (or nulls).
   * Certificates and PKCS#8 keys (the form this project writes) are read with the JDK's own
   * parsers, so a short-lived command such as {@code ctl status} loads no BouncyCastle, whose
   * signed jars cost a signature check at class loading; other key forms go through {@link Pem}.
   */
  public static SslContext client(Path caFile, Path certFile, Path keyFile) throws IOException {
    java.util.Optional<PrivateKey> pkcs8 = keyFile == null ? java.util.Optional.empty()
        : JdkPem.pkcs8Key(keyFile);
    if (certFile == null || keyFile == null || pkcs8.isPresent()) {
      try {
        return client(JdkPem.certificates(caFile), certFile == null ? null
            : JdkPem.certificates(certFile), pkcs8.orElse(null));
      } catch (java.security.cert.CertificateException unreadable) {
        // fall through: Pem reads them again and names what is wrong
      }
    }
    List<X509Certificate> cas = Pem.readCertificates(caFile);
    if (certFile == null || keyFile == null) {
      return client(cas, null, null);
    }
    return client(cas, Pem.readCertificates(certFile), Pem.readPrivateKey(keyFile));
  }
}
