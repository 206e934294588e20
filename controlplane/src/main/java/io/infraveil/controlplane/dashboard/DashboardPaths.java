package io.infraveil.controlplane.dashboard;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** The dashboard's sign-in paths and cookie, named once for the HTTP server and the gRPC edge. */
public final class DashboardPaths {

  /** Opening this path with {@code ?code=} redeems a sign-in link. */
  public static final String SIGN_IN = "/dashboard/sign-in";
  /** POST with a bearer token: a sign-in link for that token, as JSON. */
  public static final String SIGN_IN_LINKS = "/dashboard/sign-in-links";
  /** POST from the dashboard: ends the browser's session. */
  public static final String SIGN_OUT = "/dashboard/sign-out";
  /** The session cookie's name. */
  public static final String COOKIE = "infraveil_session";

  private DashboardPaths() {}

  public static String signInPath(String code) {
    return SIGN_IN + "?code=" + URLEncoder.encode(code, StandardCharsets.UTF_8);
  }
}
