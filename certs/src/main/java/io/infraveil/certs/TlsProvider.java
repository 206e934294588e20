package io.infraveil.certs;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

/**
 * Which TLS implementation every Netty context of this process uses: BoringSSL
 * (netty-tcnative) where its native library loads, several times faster at mutual-TLS
 * handshakes than the JDK's pure-Java elliptic curves; the JDK's own otherwise (another
 * platform, or {@code -Dio.netty.handler.ssl.noOpenSsl=true}). Chosen once. Not logged here,
 * since {@code ctl} prints its answers on stdout: the control plane and the host daemons log
 * {@link #description()} once at start.
 */
public final class TlsProvider {

  private static final System.Logger LOG = System.getLogger(TlsProvider.class.getName());

  private TlsProvider() {}

  /** The provider chosen for this process. */
  public static SslProvider chosen() {
    return Chosen.PROVIDER;
  }

  /**
   * The choice as logfmt fields: {@code tls_provider=openssl library="BoringSSL"}, or
   * {@code tls_provider=jdk reason="..."} saying why BoringSSL did not load.
   */
  public static String description() {
    return Chosen.DESCRIPTION;
  }

  /** True when contexts are BoringSSL's (session tickets and handshake statistics exist). */
  public static boolean isOpenSsl() {
    return chosen() == SslProvider.OPENSSL;
  }

  /** Loaded on first use, so a process that never builds a TLS context loads no native code. */
  private static final class Chosen {
    static final SslProvider PROVIDER = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    static final String DESCRIPTION = describe();

    private static String describe() {
      String description;
      if (PROVIDER == SslProvider.OPENSSL) {
        description = "tls_provider=openssl library=\"" + OpenSsl.versionString() + "\"";
      } else {
        Throwable cause = OpenSsl.unavailabilityCause();
        description = "tls_provider=jdk reason=\"" + (cause == null ? "unknown"
            : String.valueOf(cause.getMessage()).replace('"', '\'')) + "\"";
      }
      LOG.log(System.Logger.Level.DEBUG, description);
      return description;
    }
  }
}
