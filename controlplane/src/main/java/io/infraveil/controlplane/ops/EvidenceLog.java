package io.infraveil.controlplane.ops;

import io.infraveil.controlplane.history.HistoryRow;
import io.infraveil.controlplane.history.HistoryWriter;
import io.infraveil.controlplane.incidents.Finding;
import io.infraveil.controlplane.incidents.Incidents;
import io.infraveil.controlplane.incidents.TimelineSource;
import io.infraveil.controlplane.ingest.ConsoleLogs;
import io.infraveil.proto.v1.EvidenceSource;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Evidence from all six sources in one place: every piece goes to the batched history, to
 * listeners (open incidents extend their timelines), and, except console lines (which
 * {@link ConsoleLogs} keeps per deployment), into a bounded in-memory ring from which opening
 * incidents assemble their timelines.
 */
@Singleton
public final class EvidenceLog implements TimelineSource {

  /** How far back an opening incident looks for evidence other than console lines. */
  static final Duration LOOKBACK = Duration.ofMinutes(10);
  private static final int KEPT = 20_000;

  private final HistoryWriter history;
  private final ConsoleLogs consoleLogs;
  /** Guarded by itself. */
  private final Deque<Evidence> recent = new ArrayDeque<>();
  private final List<Consumer<Evidence>> listeners = new CopyOnWriteArrayList<>();

  public EvidenceLog(HistoryWriter history, ConsoleLogs consoleLogs) {
    this.history = history;
    this.consoleLogs = consoleLogs;
  }

  public void addListener(Consumer<Evidence> listener) {
    listeners.add(listener);
  }

  public void record(Evidence evidence) {
    if (evidence.source() != EvidenceSource.EVIDENCE_SOURCE_CONSOLE) {
      synchronized (recent) {
        recent.addLast(evidence);
        while (recent.size() > KEPT) {
          recent.removeFirst();
        }
      }
    }
    history.enqueue(new HistoryRow.EvidenceRow(evidence));
    listeners.forEach(listener -> listener.accept(evidence));
  }

  @Override
  public List<Evidence> around(Finding finding, Instant openedAt) {
    List<Evidence> out = new ArrayList<>();
    Instant from = openedAt.minus(LOOKBACK);
    synchronized (recent) {
      for (var it = recent.descendingIterator(); it.hasNext();) {
        Evidence e = it.next();
        if (e.at().isBefore(from)) {
          break;
        }
        out.add(e);
      }
    }
    if (!finding.deployment().isEmpty()) {
      Instant earliest = openedAt.minus(Incidents.CONSOLE_WINDOW);
      Instant latest = openedAt.plus(Incidents.CONSOLE_WINDOW);
      for (ConsoleLogs.HostLine line : consoleLogs.tail(finding.deployment(), finding.service(), 5_000)) {
        Evidence e = EvidenceTexts.console(line);
        if ((finding.host().isEmpty() || finding.host().equals(line.host()))
            && !e.at().isBefore(earliest) && !e.at().isAfter(latest)) {
          out.add(e);
        }
      }
    }
    return out;
  }
}
