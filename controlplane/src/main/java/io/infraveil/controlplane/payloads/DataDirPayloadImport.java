package io.infraveil.controlplane.payloads;

import io.infraveil.controlplane.ControlPlaneSettings;
import io.infraveil.controlplane.store.PayloadStore;
import io.micronaut.context.annotation.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upgrade from payload files to payload rows: releases before V11 kept each payload's
 * ciphertext in {@code <data-dir>/payloads/<sha256>.enc}. At start every such file whose payload
 * row exists is copied into the database as it is (a damaged file stays damaged, and hosts keep
 * refusing it) in one transaction per payload, then deleted; a crash in between repeats the copy
 * at the next start. Files no row names (a crash between the file and its row) and sealing temps
 * are removed, and so is the directory once empty.
 */
@Context
final class DataDirPayloadImport {

  private static final Logger LOG = LoggerFactory.getLogger(DataDirPayloadImport.class);

  private final List<String> imported = new ArrayList<>();

  DataDirPayloadImport(ControlPlaneSettings settings, PayloadStore store) {
    Path dir = settings.dataDir().resolve("payloads");
    if (!Files.isDirectory(dir)) {
      return;
    }
    try {
      try (var files = Files.list(dir)) {
        for (Path file : files.sorted().toList()) {
          importOne(store, file);
        }
      }
      try (var left = Files.list(dir)) {
        if (left.findAny().isEmpty()) {
          Files.delete(dir);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot import the payload files of " + dir + " into the database;"
          + " they are untouched and the import runs again at the next start", e);
    }
  }

  private void importOne(PayloadStore store, Path file) throws IOException {
    String name = file.getFileName().toString();
    if (!name.matches("[0-9a-f]{64}\\.enc")) {
      if (name.startsWith(".") && name.endsWith(".tmp")) {
        Files.deleteIfExists(file); // a crash while sealing: never named by a row
      }
      return;
    }
    String sha256 = name.substring(0, 64);
    var payload = store.find(sha256);
    if (payload.isEmpty()) {
      LOG.warn("payload_file_without_row_removed file={}", file);
      Files.delete(file);
      return;
    }
    long size;
    try (InputStream in = Files.newInputStream(file)) {
      size = store.replaceCiphertext(sha256, in);
    }
    if (size != payload.get().ciphertextSize()) {
      LOG.warn("payload_file_size_mismatch sha256={} file_bytes={} expected={}"
          + " (imported as it is; hosts will refuse it)", sha256, size, payload.get().ciphertextSize());
    }
    Files.delete(file);
    imported.add(sha256);
    LOG.info("payload_file_imported sha256={} bytes={}", sha256, size);
  }

  /** The payloads imported at this start, by hash. */
  List<String> imported() {
    return List.copyOf(imported);
  }
}
