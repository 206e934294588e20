package io.infraveil.controlplane.auth;

import io.grpc.Context;
import io.grpc.Status;
import io.infraveil.certs.Identity;
import java.util.Optional;

/**
 * The verified identity of the current gRPC call, put in the Context by
 * {@link AuthorizationInterceptor}. Services ask it; nobody else reads TLS sessions.
 */
public final class Caller {

  static final Context.Key<Identity> IDENTITY = Context.key("infraveil-caller-identity");
  static final Context.Key<String> METHOD = Context.key("infraveil-caller-method");
  static final Context.Key<String> SERIAL = Context.key("infraveil-caller-serial");

  private Caller() {}

  /** The caller's identity, or empty for an anonymous (enrollment) call. */
  public static Optional<Identity> identity() {
    return Optional.ofNullable(IDENTITY.get());
  }

  /** The full gRPC method name of the current call. */
  /** The calling operator's identity URI, for "who did it" in records and Watch. */
  public static String operatorUri() {
    return identity().map(io.infraveil.certs.Identity::uri).orElse("unknown operator");
  }

  /** The serial (hex) of the caller's client certificate, or empty for an anonymous call. */
  public static Optional<String> certificateSerial() {
    return Optional.ofNullable(SERIAL.get());
  }

  public static String method() {
    String method = METHOD.get();
    return method == null ? "?" : method;
  }

  /**
   * The calling host's name, after checking the caller is a host. Hosts act only as themselves:
   * the returned name is the one to use, never a name from the request.
   */
  public static String requireHost() {
    Identity identity = IDENTITY.get();
    if (identity == null || !identity.isHost()) {
      throw Status.PERMISSION_DENIED
          .withDescription((identity == null ? "an anonymous caller" : identity.uri())
              + " may not call " + method() + ": only hosts may")
          .asRuntimeException();
    }
    return identity.name();
  }
}
