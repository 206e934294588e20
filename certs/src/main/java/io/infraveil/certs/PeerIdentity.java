package io.infraveil.certs;

import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/** Reads identities out of certificates and TLS sessions. */
public final class PeerIdentity {

  private static final int URI_SAN = 6;

  private PeerIdentity() {}

  /** The verified client identity of a TLS session, or empty when no certificate was sent. */
  public static Optional<VerifiedPeer> fromSession(SSLSession session) {
    if (session == null) {
      return Optional.empty();
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
        return Optional.empty();
      }
      return identityOf(leaf).map(identity -> new VerifiedPeer(identity, leaf));
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
  }

  /** The spiffe identity in a certificate's URI SAN. */
  public static Optional<Identity> identityOf(X509Certificate certificate) {
    for (String uri : uriSans(certificate)) {
      if (uri.startsWith("spiffe://")) {
        try {
          return Optional.of(Identity.parse(uri));
        } catch (IllegalArgumentException notAnIdentity) {
          // The CA's own URI (spiffe://domain) has no kind; keep looking.
        }
      }
    }
    return Optional.empty();
  }

  /** The trust domain a CA certificate speaks for (its {@code spiffe://<domain>} URI SAN). */
  public static String trustDomainOfCa(X509Certificate ca) {
    for (String uri : uriSans(ca)) {
      if (uri.startsWith("spiffe://")) {
        String rest = uri.substring("spiffe://".length());
        return rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest;
      }
    }
    throw new IllegalArgumentException("CA certificate " + ca.getSubjectX500Principal()
        + " carries no spiffe trust domain");
  }

  private static List<String> uriSans(X509Certificate certificate) {
    try {
      Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
      if (sans == null) {
        return List.of();
      }
      return sans.stream()
          .filter(san -> ((Integer) san.get(0)) == URI_SAN)
          .map(san -> (String) san.get(1))
          .toList();
    } catch (CertificateParsingException e) {
      return List.of();
    }
  }

  /** A verified identity with the certificate that proved it. */
  public record VerifiedPeer(Identity identity, X509Certificate certificate) {
    /** Serial number in lower-case hex, as revocations record it. */
    public String serialHex() {
      return certificate.getSerialNumber().toString(16);
    }
  }
}
