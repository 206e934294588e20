package io.infraveil.agent;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Where dynamic ports come from: the kernel picks a free port, and a port kept from before is
 * used again only while nothing listens on it. A seam so tests can make ports busy.
 */
public interface FreePorts {

  /** A port free now (the kernel's choice for a bind to port 0 on every address). */
  int pick() throws IOException;

  /** Whether a listener could bind {@code port} on every address now. */
  boolean isFree(int port);

  /** The host's own ports. */
  FreePorts SYSTEM = new FreePorts() {
    @Override
    public int pick() throws IOException {
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new InetSocketAddress(0));
        return socket.getLocalPort();
      }
    }

    @Override
    public boolean isFree(int port) {
      // SO_REUSEADDR (the JDK's default here) lets TIME_WAIT leftovers of a stopped instance
      // pass, but not a listener: a port some process serves on is not free.
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new InetSocketAddress(port));
        return true;
      } catch (IOException e) {
        return false;
      }
    }
  };
}
