package io.infraveil.controlplane.store;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Runs a test method once on H2 and once on PostgreSQL; the method takes the {@link Engine}
 * as its parameter: {@code @OnBothEngines void storesAHost(Engine engine)}.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ParameterizedTest(name = "on {0}")
@EnumSource(Engine.class)
public @interface OnBothEngines {}
