package io.infraveil.host.fs;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Reads and atomically writes small JSON state files (records), ISO-8601 times. */
public final class JsonFiles {

  private static final ObjectMapper MAPPER = new ObjectMapper()
      .registerModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(SerializationFeature.INDENT_OUTPUT);

  private JsonFiles() {}

  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /** Writes the value atomically; returns false when the file already held the same content. */
  public static boolean write(Path file, Object value) throws IOException {
    return AtomicFiles.writeIfChanged(file, MAPPER.writeValueAsBytes(value));
  }

  /** Reads the file, or empty if it does not exist. A corrupt file is an error naming it. */
  public static <T> Optional<T> read(Path file, Class<T> type) throws IOException {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(MAPPER.readValue(file.toFile(), type));
    } catch (IOException e) {
      throw new IOException("cannot read " + file + " as " + type.getSimpleName() + ": "
          + e.getMessage(), e);
    }
  }
}
