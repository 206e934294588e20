package io.infraveil.controlplane.incidents;

/** The in-memory store keeps the store contract. */
class InMemoryIncidentStoreTest extends IncidentStoreContract {

  @Override
  IncidentStore store() {
    return new InMemoryIncidentStore();
  }
}
