import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The sample service: answers {@code /health} with {@code ok} and {@code /} with the contents
 * of the VERSION file next to it. Listens on 127.0.0.1 and the port in {@code PORT}
 * (default 8080). Needs only a JDK: {@code java Hello.java}.
 */
public final class Hello {

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
    String version = Files.readString(Path.of("VERSION"), StandardCharsets.UTF_8).strip();
    HttpServer server = HttpServer.create(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
    server.createContext("/health", exchange -> answer(exchange, "ok"));
    server.createContext("/", exchange -> {
      if (!exchange.getRequestURI().getPath().equals("/")) {
        answer(exchange, 404, "not found");
        return;
      }
      answer(exchange, version);
    });
    server.start();
    System.out.println("hello " + version + " listening on http://127.0.0.1:" + port + "/");
  }

  private static void answer(HttpExchange exchange, String body) throws IOException {
    answer(exchange, 200, body);
  }

  private static void answer(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }
}
