package io.infraveil.controlplane;

import io.infraveil.controlplane.dashboard.DashboardSettings;
import io.infraveil.controlplane.grpc.ServerTlsContext;
import io.infraveil.controlplane.ops.OperationsSettings;
import io.infraveil.controlplane.payloads.PayloadIntake;
import io.infraveil.controlplane.replica.ReplicaSettings;
import io.infraveil.controlplane.rollout.RolloutWiring;
import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.bind.annotation.Bindable;
import java.lang.reflect.Constructor;
import java.lang.reflect.Parameter;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every {@code infraveil.*} property the control plane reads, derived from the classes that
 * read them (never listed twice): the components of its {@code @ConfigurationProperties}
 * records and its {@code @Value} constructor parameters. controlplane.yaml and
 * docs/configuration.md are checked against this list, and {@code ControlPlanePropertiesTest}
 * fails when a class that reads a property is missing from {@link #READERS}.
 */
public final class ControlPlaneProperties {

  /** The classes that read {@code infraveil.*} properties. */
  public static final List<Class<?>> READERS =
      List.of(ControlPlaneSettings.class, DatabaseSettings.class, MasterKey.class, OperationsSettings.class,
          PayloadIntake.class, DashboardSettings.class, RolloutWiring.class, ReplicaSettings.class,
          io.infraveil.controlplane.replica.ReplicaName.class,
          io.infraveil.controlplane.replica.ReplicationSettings.class, ServerTlsContext.class);

  private static final Pattern VALUE = Pattern.compile("\\$\\{([a-z0-9.-]+)(?::([^}]*))?}");

  /** One property: full name, the Java type it binds to, and its default ("" when none). */
  public record Property(String name, Class<?> type, String defaultValue) {}

  private ControlPlaneProperties() {}

  /** Every property, in the order the readers declare them. */
  public static List<Property> all() {
    List<Property> out = new ArrayList<>();
    for (Class<?> reader : READERS) {
      ConfigurationProperties prefix = reader.getAnnotation(ConfigurationProperties.class);
      if (prefix != null && !reader.isRecord()) {
        throw new IllegalStateException(reader.getName() + ": @ConfigurationProperties classes"
            + " are records here (STYLE 13), so their properties can be listed");
      }
      if (prefix != null) {
        for (RecordComponent component : reader.getRecordComponents()) {
          out.add(new Property(prefix.value() + "." + kebab(component.getName()),
              component.getType(), bindableDefault(reader, component)));
        }
      }
      for (Constructor<?> constructor : reader.getConstructors()) {
        for (Parameter parameter : constructor.getParameters()) {
          Value value = parameter.getAnnotation(Value.class);
          if (value == null) {
            continue;
          }
          Matcher matcher = VALUE.matcher(value.value());
          if (!matcher.matches()) {
            throw new IllegalStateException("cannot read the property of @Value(\""
                + value.value() + "\") in " + reader.getName());
          }
          if (!matcher.group(1).startsWith("infraveil.")) {
            continue; // another library's setting read as well (grpc.server.port): not ours to list
          }
          out.add(new Property(matcher.group(1), parameter.getType(),
              matcher.group(2) == null ? "" : matcher.group(2)));
        }
      }
    }
    return List.copyOf(out);
  }

  /** The component's {@code @Bindable(defaultValue)}, wherever Java put the annotation. */
  private static String bindableDefault(Class<?> record, RecordComponent component) {
    List<java.lang.reflect.AnnotatedElement> places = new ArrayList<>(
        List.of(component, component.getAccessor()));
    try {
      places.add(record.getDeclaredField(component.getName()));
      Class<?>[] types = java.util.Arrays.stream(record.getRecordComponents())
          .map(RecordComponent::getType).toArray(Class<?>[]::new);
      Parameter[] parameters = record.getDeclaredConstructor(types).getParameters();
      RecordComponent[] components = record.getRecordComponents();
      for (int i = 0; i < components.length; i++) {
        if (components[i].getName().equals(component.getName())) {
          places.add(parameters[i]);
        }
      }
    } catch (NoSuchFieldException | NoSuchMethodException e) {
      throw new IllegalStateException("record " + record.getName() + " lost its component "
          + component.getName(), e);
    }
    for (java.lang.reflect.AnnotatedElement place : places) {
      Bindable bindable = place.getAnnotation(Bindable.class);
      if (bindable != null) {
        return bindable.defaultValue();
      }
    }
    return "";
  }

  /** {@code hostCertificateLifetime} → {@code host-certificate-lifetime}, as Micronaut binds it. */
  static String kebab(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
  }
}
