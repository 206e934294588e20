package io.infraveil.launcher;

class InMemoryStateStoreTest extends StateStoreContract {
  @Override
  StateStore store() {
    return new InMemoryStateStore();
  }
}
