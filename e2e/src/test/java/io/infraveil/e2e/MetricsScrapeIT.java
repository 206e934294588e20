package io.infraveil.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.infraveil.certs.Pem;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.yaml.snakeyaml.Yaml;

/**
 * Metrics for a central Prometheus: a launcher started with {@code --metrics-bind
 * 0.0.0.0:PORT} is scraped from another network namespace over a veth pair (or, where network
 * namespaces cannot be made, from a non-loopback address of this machine), and every metric
 * the shipped alert rules and Grafana dashboard ({@code deploy/}) name appears in real scrapes
 * of the control plane and of that launcher with an agent running.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MetricsScrapeIT {

  private static final Duration UP = Duration.ofSeconds(90);
  /** Series Prometheus makes itself, not found in any scrape. */
  private static final Set<String> SYNTHETIC = Set.of("up");

  @Test
  void launcherMetricsAreScrapedFromAnotherAddressAndDeployFilesNameOnlyRealMetrics() throws Exception {
    try (Cluster cluster = Cluster.start(Cluster.runDir("MetricsScrapeIT"))) {
      int port = Cluster.freePort();
      List<String> args = new ArrayList<>(Battle.fastHost());
      args.addAll(List.of("--metrics-bind", "0.0.0.0:" + port));
      cluster.startHost("web-1", cluster.grpcEndpoint(), args);
      cluster.deploy(cluster.helloApp("v1"), "hello", "web-1");
      cluster.waitFor("the agent's metrics are in the launcher's scrape", UP, () -> Cluster.httpGet(port, "/metrics")
          .map(body -> body.contains("infraveil_agent_service_up{")).orElse(false));
      cluster.ctlOk("logs", "hello"); // a TailLogs stream that ends: infraveil_grpc_streams_ended_total

      String hostScrape = scrapeFromElsewhere(port);
      assertTrue(hostScrape.contains("infraveil_launcher_sync_connected 1"), hostScrape);
      assertTrue(hostScrape.contains("program=\"launcher\""), "build info of the launcher: " + hostScrape);
      assertTrue(hostScrape.contains("program=\"agent\""), "build info of the agent: " + hostScrape);

      String controlPlaneScrape = https(cluster, "/metrics");
      Set<String> scraped = sampleNames(hostScrape + "\n" + controlPlaneScrape);

      Path deploy = Cluster.repoRoot().resolve("deploy");
      Map<String, String> expressions = new java.util.LinkedHashMap<>();
      alertExpressions(deploy.resolve("prometheus/infraveil-alerts.yml")).forEach(expressions::put);
      grafanaExpressions(deploy.resolve("grafana/infraveil-dashboard.json")).forEach(expressions::put);
      assertTrue(expressions.size() >= 20, "rules and panels were read: " + expressions.keySet());
      List<String> missing = new ArrayList<>();
      for (var e : expressions.entrySet()) {
        Set<String> names = metricNames(e.getValue());
        assertTrue(!names.isEmpty(), e.getKey() + " names a metric: " + e.getValue());
        for (String name : names) {
          if (!SYNTHETIC.contains(name) && !scraped.contains(name)) {
            missing.add(e.getKey() + ": " + name);
          }
        }
      }
      assertEquals(List.of(), missing, "metrics named in deploy/ but in no scrape");
      promtoolCheck(deploy.resolve("prometheus/infraveil-alerts.yml"));
    }
  }

  /**
   * GET /metrics from a network namespace of its own, through a veth pair into this one; where
   * that cannot be made, from this machine's first non-loopback IPv4 address.
   */
  static String scrapeFromElsewhere(int port) throws Exception {
    String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
    String ns = "ivm" + suffix;
    int subnet = ThreadLocalRandom.current().nextInt(1, 250);
    String outside = "10.213." + subnet + ".1";
    String inside = "10.213." + subnet + ".2";
    List<List<String>> setup = List.of(
        List.of("ip", "netns", "add", ns),
        List.of("ip", "link", "add", "iva" + suffix, "type", "veth", "peer", "name", "ivb" + suffix),
        List.of("ip", "link", "set", "ivb" + suffix, "netns", ns),
        List.of("ip", "addr", "add", outside + "/30", "dev", "iva" + suffix),
        List.of("ip", "link", "set", "iva" + suffix, "up"),
        List.of("ip", "netns", "exec", ns, "ip", "addr", "add", inside + "/30", "dev", "ivb" + suffix),
        List.of("ip", "netns", "exec", ns, "ip", "link", "set", "ivb" + suffix, "up"),
        List.of("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"));
    String why = null;
    try {
      for (List<String> step : setup) {
        Run run = run(step);
        if (run.code() != 0) {
          why = String.join(" ", step) + " failed (" + run.code() + "): " + run.output();
          break;
        }
      }
      if (why == null) {
        Run scrape = run(List.of("ip", "netns", "exec", ns, "curl", "-sS", "--fail", "--max-time", "10",
            "http://" + outside + ":" + port + "/metrics"));
        assertEquals(0, scrape.code(), "scraping " + outside + ":" + port + " from namespace " + ns + " ("
            + inside + "): " + scrape.output());
        System.out.println("METRICS scraped http://" + outside + ":" + port + "/metrics from network namespace " + ns);
        return scrape.output();
      }
    } finally {
      run(List.of("ip", "netns", "del", ns));
      run(List.of("ip", "link", "del", "iva" + suffix));
    }
    Optional<InetAddress> address = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
        .flatMap(i -> Collections.list(i.getInetAddresses()).stream())
        .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress()).findFirst();
    org.junit.jupiter.api.Assumptions.assumeTrue(address.isPresent(),
        "no network namespace (" + why + ") and no non-loopback address: cannot scrape from elsewhere");
    System.out.println("METRICS no network namespace (" + why + "); scraping " + address.get().getHostAddress());
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://"
        + address.get().getHostAddress() + ":" + port + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
    return response.body();
  }

  record Run(int code, String output) {}

  static Run run(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      return new Run(-1, output + " (timed out)");
    }
    return new Run(process.exitValue(), output);
  }

  static String https(Cluster cluster, String path) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", Pem.readCertificate(cluster.caFile()));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    HttpResponse<String> response = HttpClient.newBuilder().sslContext(ssl).build().send(HttpRequest.newBuilder(
        URI.create("https://localhost:" + cluster.httpPort() + path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    return response.body();
  }

  /** Names of the samples in a Prometheus text exposition. */
  static Set<String> sampleNames(String exposition) {
    Set<String> names = new TreeSet<>();
    for (String line : exposition.split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) {
        Matcher m = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)").matcher(line);
        if (m.find()) {
          names.add(m.group(1));
        }
      }
    }
    return names;
  }

  @SuppressWarnings("unchecked")
  static Map<String, String> alertExpressions(Path file) throws IOException {
    Map<String, Object> doc = new Yaml().load(Files.readString(file));
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (Map<String, Object> group : (List<Map<String, Object>>) doc.get("groups")) {
      for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
        String name = String.valueOf(rule.getOrDefault("alert", rule.get("record")));
        assertTrue(rule.get("expr") instanceof String, "rule " + name + " has an expr");
        assertTrue(((Map<String, Object>) rule.get("labels")).containsKey("severity"), "rule " + name + " has a severity");
        out.put("alert " + name, (String) rule.get("expr"));
      }
    }
    return out;
  }

  static Map<String, String> grafanaExpressions(Path file) throws IOException {
    JsonNode dashboard = new ObjectMapper().readTree(file.toFile());
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        out.put("panel \"" + panel.path("title").asText() + "\" " + target.path("refId").asText(),
            target.path("expr").asText());
      }
    }
    return out;
  }

  private static final Set<String> PROMQL_WORDS = Set.of("by", "without", "on", "ignoring", "group_left",
      "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan");

  /** Metric names in a PromQL expression: identifiers that are not functions, keywords, labels or durations. */
  static Set<String> metricNames(String expr) {
    String s = expr.replaceAll("\"(\\\\.|[^\"])*\"", "\"\"")       // strings
        .replaceAll("\\{[^}]*}", " ")                              // label matchers
        .replaceAll("\\[[^]]*]", " ")                              // range durations
        .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " "); // groupings
    Set<String> names = new TreeSet<>();
    Matcher m = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?").matcher(s);
    while (m.find()) {
      String word = m.group(1);
      boolean function = m.group(2) != null;
      if (!function && !PROMQL_WORDS.contains(word.toLowerCase())) {
        names.add(word);
      }
    }
    return names;
  }

  /** {@code promtool check rules} where a promtool is installed; the parse above stands in otherwise. */
  static void promtoolCheck(Path rules) throws Exception {
    Optional<Path> promtool = java.util.stream.Stream.of(System.getenv("PATH").split(":"))
        .map(dir -> Path.of(dir, "promtool")).filter(Files::isExecutable).findFirst();
    if (promtool.isEmpty()) {
      System.out.println("METRICS promtool not on PATH: rules checked by parsing them and matching real scrapes");
      return;
    }
    Run check = run(List.of(promtool.get().toString(), "check", "rules", rules.toString()));
    assertEquals(0, check.code(), check.output());
  }
}
