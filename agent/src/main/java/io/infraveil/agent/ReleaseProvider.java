package io.infraveil.agent;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Gives the extracted release directory of a version (its {@code config.yaml} at the root).
 * Implemented by the payload cache; rollback needs no network because known good versions stay
 * on disk.
 */
public interface ReleaseProvider {

  Path releaseDir(String sha256) throws IOException;
}
