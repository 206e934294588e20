-- Rollouts: how each new version of a deployment moved through its hosts. Kept after the
-- deployment changes again: this is the deployment history (ctl history).

CREATE TABLE rollouts (
  id                 BIGINT AUTO_INCREMENT PRIMARY KEY,
  deployment         VARCHAR(64)   NOT NULL,
  origin             VARCHAR(16)   NOT NULL,
  payload_sha256     CHAR(64)      NOT NULL,
  sequence           BIGINT        NOT NULL,
  generation         BIGINT        NOT NULL,
  version_label      VARCHAR(200)  NOT NULL,
  -- the last version healthy on every host, which a revert restores (null for a first version)
  revert_sha256      CHAR(64),
  revert_sequence    BIGINT,
  revert_signatures  VARBINARY(65536),
  revert_label       VARCHAR(200),
  max_parallel       INT           NOT NULL,
  canary             INT           NOT NULL,
  min_healthy_ms     BIGINT        NOT NULL,
  healthy_deadline_ms BIGINT       NOT NULL,
  auto_promote       BOOLEAN       NOT NULL,
  auto_revert        BOOLEAN       NOT NULL,
  state              VARCHAR(32)   NOT NULL,
  promoted           BOOLEAN       DEFAULT FALSE NOT NULL,
  batch              INT           DEFAULT 0 NOT NULL,
  reason             VARCHAR(2000),
  started_by         VARCHAR(300)  NOT NULL,
  started_at         TIMESTAMP WITH TIME ZONE NOT NULL,
  finished_at        TIMESTAMP WITH TIME ZONE
);
CREATE INDEX rollouts_by_deployment ON rollouts (deployment, id);

-- One row per placed host. from_entry is the host's desired entry for the deployment before
-- the rollout (a serialized DesiredAgent, null when it had none): what it keeps until moved.
CREATE TABLE rollout_hosts (
  rollout_id     BIGINT        NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
  position       INT           NOT NULL,
  host_name      VARCHAR(64)   NOT NULL,
  state          VARCHAR(32)   NOT NULL,
  batch          INT           DEFAULT 0 NOT NULL,
  canary         BOOLEAN       DEFAULT FALSE NOT NULL,
  from_entry     VARBINARY(1048576),
  moved_at       TIMESTAMP WITH TIME ZONE,
  healthy_since  TIMESTAMP WITH TIME ZONE,
  finished_at    TIMESTAMP WITH TIME ZONE,
  detail         VARCHAR(2000),
  PRIMARY KEY (rollout_id, host_name)
);

