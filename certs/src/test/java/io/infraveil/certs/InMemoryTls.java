package io.infraveil.certs;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * One real TLS connection between two Netty contexts, with the records passed between the two
 * engines in memory instead of over a socket. The client names the same host and port each
 * time, as a reconnecting host does, so its session cache can offer a ticket.
 */
final class InMemoryTls {

  /** The two ends' sessions after the handshake (and the server's post-handshake tickets). */
  record Connection(SSLSession client, SSLSession server) {}

  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
  private static final byte[] PING = {0};

  private InMemoryTls() {}

  static Connection connect(SslContext server, SslContext client) throws SSLException {
    SSLEngine clientEngine = client.newEngine(ByteBufAllocator.DEFAULT, "controlplane.test", 7443);
    SSLEngine serverEngine = server.newEngine(ByteBufAllocator.DEFAULT);
    try {
      ByteBuffer toServer = ByteBuffer.allocate(1 << 18);
      ByteBuffer toClient = ByteBuffer.allocate(1 << 18);
      ByteBuffer clientIn = ByteBuffer.allocate(1 << 18);
      ByteBuffer serverIn = ByteBuffer.allocate(1 << 18);
      clientEngine.beginHandshake();
      serverEngine.beginHandshake();
      int quietRounds = 0;
      for (int round = 0; round < 200 && quietRounds < 3; round++) {
        // Once both finished, each side sends a byte, as gRPC's first HTTP/2 frames do; the
        // server's session tickets travel with it.
        clientEngine.wrap(quietRounds > 0 ? ByteBuffer.wrap(PING) : EMPTY, toServer);
        runTasks(clientEngine);
        serverEngine.wrap(quietRounds > 0 ? ByteBuffer.wrap(PING) : EMPTY, toClient);
        runTasks(serverEngine);
        deliver(toServer, serverEngine, serverIn);
        deliver(toClient, clientEngine, clientIn);
        boolean done = clientEngine.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
            && serverEngine.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING;
        // A few rounds after both finished, so the server's session tickets reach the client.
        quietRounds = done ? quietRounds + 1 : 0;
      }
      if (quietRounds < 3) {
        throw new SSLException("the handshake did not finish in 200 rounds");
      }
      return new Connection(clientEngine.getSession(), serverEngine.getSession());
    } finally {
      ReferenceCountUtil.release(clientEngine);
      ReferenceCountUtil.release(serverEngine);
    }
  }

  private static void deliver(ByteBuffer records, SSLEngine to, ByteBuffer appData) throws SSLException {
    records.flip();
    while (records.hasRemaining()) {
      if (to.unwrap(records, appData).bytesConsumed() == 0) {
        break;
      }
      runTasks(to);
    }
    records.compact();
    appData.clear();
  }

  private static void runTasks(SSLEngine engine) {
    for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
      task.run();
    }
  }
}
