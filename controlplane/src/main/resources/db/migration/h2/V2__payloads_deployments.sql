-- Payloads (content-addressed ciphertext on disk, metadata here) and deployments.

CREATE TABLE payloads (
  sha256           CHAR(64)     PRIMARY KEY,
  plaintext_size   BIGINT       NOT NULL,
  ciphertext_size  BIGINT       NOT NULL,
  record_size      INT          NOT NULL,
  nonce_prefix     VARBINARY(16) NOT NULL,
  data_key_sealed  VARBINARY(256) NOT NULL,
  version_label    VARCHAR(200) NOT NULL,
  services         VARCHAR(4000) NOT NULL,
  uploaded_by      VARCHAR(300) NOT NULL,
  uploaded_at      TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE deployments (
  name               VARCHAR(64)  PRIMARY KEY,
  payload_sha256     CHAR(64)     NOT NULL REFERENCES payloads (sha256),
  sequence           BIGINT       NOT NULL,
  previous_sha256    CHAR(64)     REFERENCES payloads (sha256),
  previous_sequence  BIGINT,
  generation         BIGINT       DEFAULT 1 NOT NULL,
  hosts_json         VARCHAR(4000) DEFAULT '[]' NOT NULL,
  labels_json        VARCHAR(4000) DEFAULT '{}' NOT NULL,
  max_instances      INT          DEFAULT 0 NOT NULL,
  paused             BOOLEAN      DEFAULT FALSE NOT NULL,
  retry_marked_bad   BOOLEAN      DEFAULT FALSE NOT NULL,
  signatures         VARBINARY(65536),
  -- what paused hosts keep running: the payload and generation of the last unpaused state
  frozen_sha256      CHAR(64),
  frozen_sequence    BIGINT,
  frozen_generation  BIGINT,
  updated_at         TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Sequences only grow, even across deletion and re-creation of a deployment name, so a host
-- never sees an old signed version presented as new.
CREATE TABLE deployment_sequences (
  name           VARCHAR(64) PRIMARY KEY,
  last_sequence  BIGINT      NOT NULL
);

-- The desired state last computed for each host, so a restart neither loses nor re-bumps it.
ALTER TABLE hosts ADD COLUMN desired_state VARBINARY(1048576);
