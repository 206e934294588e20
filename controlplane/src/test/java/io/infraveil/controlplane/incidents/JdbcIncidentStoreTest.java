package io.infraveil.controlplane.incidents;

import io.infraveil.certs.PkiDirectory;
import io.infraveil.controlplane.ControlPlane;
import io.infraveil.controlplane.history.HistoryWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** The H2 store (real database, real migrations) keeps the store contract. */
class JdbcIncidentStoreTest extends IncidentStoreContract {

  @TempDir Path dir;
  ControlPlane controlPlane;

  @Override
  IncidentStore store() throws Exception {
    new PkiDirectory(dir.resolve("pki"), Clock.systemUTC()).init("test.infraveil");
    controlPlane = ControlPlane.start(dir.resolve("data"), dir.resolve("pki"), 0, Map.of());
    return controlPlane.bean(JdbcIncidentStore.class);
  }

  @Override
  void flush() {
    controlPlane.bean(HistoryWriter.class).flush(); // timeline appends are written in batches
  }

  @AfterEach
  void stop() {
    if (controlPlane != null) {
      controlPlane.close();
    }
  }
}
