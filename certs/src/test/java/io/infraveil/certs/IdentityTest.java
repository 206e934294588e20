package io.infraveil.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The spiffe URI format is the only way identities cross the wire, so it must round-trip exactly. */
class IdentityTest {

  @Test
  void formatsHostAndOperatorUris() {
    assertEquals("spiffe://infraveil.local/host/web-1", Identity.host("infraveil.local", "web-1").uri());
    assertEquals("spiffe://infraveil.local/operator/alice",
        Identity.operator("infraveil.local", "alice").uri());
    assertEquals("spiffe://infraveil.local/controlplane/cp",
        new Identity("infraveil.local", Identity.Kind.CONTROL_PLANE, "cp").uri());
  }

  @Test
  void parsesWhatItFormats() {
    Identity identity = Identity.parse("spiffe://example.org/host/db-2.eu");
    assertEquals("example.org", identity.trustDomain());
    assertEquals(Identity.Kind.HOST, identity.kind());
    assertEquals("db-2.eu", identity.name());
    assertTrue(identity.isHost());
    assertFalse(identity.isOperator());
    assertEquals(identity, Identity.parse(identity.uri()));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "https://example.org/host/web-1",      // not spiffe
      "spiffe://example.org/host",           // no name
      "spiffe://example.org/host/web-1/x",   // too deep
      "spiffe://example.org/robot/web-1",    // unknown kind
      "spiffe://example.org/host/Web-1",     // upper case
      "spiffe:///host/web-1",                // no trust domain
  })
  void rejectsMalformedUris(String uri) {
    assertThrows(IllegalArgumentException.class, () -> Identity.parse(uri));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "-web", "web-", "web_1", "Web", "a b", "web/1", "ünicode"})
  void rejectsBadNames(String name) {
    assertFalse(Identity.isValidName(name));
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> Identity.host("infraveil.local", name));
    assertTrue(error.getMessage().contains("host name"), error.getMessage());
  }

  @Test
  void rejectsOverlongNames() {
    String name = "a".repeat(64);
    assertThrows(IllegalArgumentException.class, () -> Identity.operator("infraveil.local", name));
    assertTrue(Identity.isValidName("a".repeat(63)));
  }

  @Test
  void rejectsBadTrustDomain() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> Identity.host("Bad_Domain", "web-1"));
    assertTrue(error.getMessage().contains("trust domain"), error.getMessage());
  }

  @Test
  void rejectsNullName() {
    assertFalse(Identity.isValidName(null));
  }
}
