-- Everything that is the truth lives in the database, so several control planes can share one.

-- Payload ciphertext in rows of at most 1 MiB (PayloadStore.CHUNK_BYTES), written while an
-- upload is sealed and read one row at a time while a host fetches. A payload's chunks and its
-- payloads row commit in one transaction, so a payloads row never names missing ciphertext.
CREATE TABLE payload_chunks (
  sha256       CHAR(64) NOT NULL,
  chunk_index  INT      NOT NULL,
  bytes        BYTEA    NOT NULL,
  PRIMARY KEY (sha256, chunk_index)
);

-- The fingerprint of the master key that sealed the data keys stored here (one row, id 1). The
-- key itself is never stored: each control plane is given the same key file, and one holding
-- another key refuses to start.
CREATE TABLE master_key_fingerprint (
  id           INT          PRIMARY KEY,
  fingerprint  CHAR(64)     NOT NULL,
  recorded_at  TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Grows with every write of a deployment row: a write names the version it read and is refused
-- when another control plane wrote in between (compare-and-set).
ALTER TABLE deployments ADD COLUMN row_version BIGINT DEFAULT 0 NOT NULL;
