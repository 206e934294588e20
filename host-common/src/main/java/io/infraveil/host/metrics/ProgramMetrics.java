package io.infraveil.host.metrics;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.metrics.Info;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * What every Infraveil program exposes besides its own metrics: {@code infraveil_build_info}
 * (always 1, labelled with the program, its version and the JVM's), and Micrometer's JVM and
 * process binders (memory, GC, threads, classes, CPU, uptime, open file descriptors).
 */
public final class ProgramMetrics {

  private ProgramMetrics() {}

  /** The project version this build carries, {@code unknown} outside a Maven build. */
  public static String version() {
    try (InputStream in = ProgramMetrics.class.getResourceAsStream("build.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties properties = new Properties();
      properties.load(in);
      String version = properties.getProperty("version", "unknown");
      return version.startsWith("${") ? "unknown" : version;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read build.properties: " + e.getMessage(), e);
    }
  }

  /**
   * Binds build info and the JVM and process metrics to {@code registry}. The GC binder keeps
   * a listener: {@code registry.close()} releases it. {@code deployment} (null for none) tells
   * one agent's build info from another's where the launcher merges them into one scrape; the
   * other metrics get it from the registry's common tags.
   */
  @SuppressWarnings("resource")
  public static void bind(PrometheusMeterRegistry registry, String program, String deployment) {
    // An Info metric: Micrometer would strip the _info suffix from a gauge's name.
    List<String> names = new ArrayList<>(List.of("program", "version", "java_version", "java_vendor"));
    List<String> values = new ArrayList<>(List.of(program, version(), System.getProperty("java.version", "unknown"),
        System.getProperty("java.vendor", "unknown")));
    if (deployment != null) {
      names.add("deployment");
      values.add(deployment);
    }
    Info.builder().name("infraveil_build_info").help("Always 1: which program, version and JVM this is")
        .labelNames(names.toArray(new String[0]))
        .register(registry.getPrometheusRegistry())
        .setLabelValues(values.toArray(new String[0]));
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
  }
}
