package io.infraveil.controlplane.incidents;

import io.infraveil.controlplane.ops.Evidence;
import java.time.Instant;
import java.util.List;

/** Where an opening incident finds the evidence recorded before it opened. */
public interface TimelineSource {

  /** Evidence from all sources recorded around {@code openedAt}, in any order. */
  List<Evidence> around(Finding finding, Instant openedAt);
}
