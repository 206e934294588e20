package io.infraveil.certs;

import java.security.KeyPair;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Certificate signing requests made on the machine that holds the key. */
public final class Csrs {

  private Csrs() {}

  /** A CSR for {@code keyPair}, signed with its private key (proof of possession). */
  public static PKCS10CertificationRequest create(KeyPair keyPair, String commonName) {
    try {
      return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + commonName), keyPair.getPublic())
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keyPair.getPrivate()));
    } catch (OperatorCreationException e) {
      throw new IllegalStateException("cannot sign a CSR", e);
    }
  }

  public static String createPem(KeyPair keyPair, String commonName) {
    return Pem.encode(create(keyPair, commonName));
  }
}
