package io.infraveil.controlplane.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import java.util.TreeMap;

/** Host labels as stored: a JSON object of strings, keys sorted. */
final class Labels {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Labels() {}

  static String toJson(Map<String, String> labels) {
    try {
      return MAPPER.writeValueAsString(new TreeMap<>(labels));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("labels cannot be written as JSON", e);
    }
  }

  static Map<String, String> fromJson(String json) {
    try {
      return MAPPER.readValue(json == null ? "{}" : json, new TypeReference<TreeMap<String, String>>() {});
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored labels are not valid JSON: " + json, e);
    }
  }
}
