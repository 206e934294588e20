package io.infraveil.certs;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

/**
 * Which TLS implementation every Netty context of this process uses: BoringSSL
 * (netty-tcnative) where its native library loads, several times faster at mutual-TLS
 * handshakes than the JDK's pure-Java elliptic curves; the JDK's own otherwise (another
 * platform, or {@code -Dio.netty.handler.ssl.noOpenSsl=true}). Chosen once and logged once.
 */
public final class TlsProvider {

  private static final System.Logger LOG = System.getLogger(TlsProvider.class.getName());

  private TlsProvider() {}

  /** The provider chosen for this process. */
  public static SslProvider chosen() {
    return Chosen.PROVIDER;
  }

  /** True when contexts are BoringSSL's (session tickets and handshake statistics exist). */
  public static boolean isOpenSsl() {
    return chosen() == SslProvider.OPENSSL;
  }

  /** Loaded on first use, so a process that never builds a TLS context loads no native code. */
  private static final class Chosen {
    static final SslProvider PROVIDER = choose();

    private static SslProvider choose() {
      if (OpenSsl.isAvailable()) {
        LOG.log(System.Logger.Level.INFO, "tls_provider provider=openssl library=\""
            + OpenSsl.versionString() + "\"");
        return SslProvider.OPENSSL;
      }
      Throwable cause = OpenSsl.unavailabilityCause();
      LOG.log(System.Logger.Level.INFO, "tls_provider provider=jdk reason=\""
          + (cause == null ? "unknown" : String.valueOf(cause.getMessage()).replace('"', '\''))
          + "\"");
      return SslProvider.JDK;
    }
  }
}
