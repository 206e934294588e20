-- Replicas of the control plane sharing one database: who runs (refreshed every few seconds,
-- with the database's clock), the leader lease (one row, taken and renewed by compare-and-set
-- against the database's clock), and at most one open incident per finding key, enforced here
-- so that two leaders overlapping in a hand-over cannot open the same incident twice.
-- Portable SQL: runs unchanged on H2 and PostgreSQL.

CREATE TABLE control_plane_replicas (
  name          VARCHAR(200) PRIMARY KEY,
  grpc_address  VARCHAR(300) NOT NULL,
  role          VARCHAR(16)  NOT NULL,
  hosts_held    INTEGER      DEFAULT 0 NOT NULL,
  instance_id   VARCHAR(40)  NOT NULL,
  started_at    TIMESTAMP WITH TIME ZONE NOT NULL,
  seen_at       TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE control_plane_lease (
  name          VARCHAR(40)  PRIMARY KEY,
  holder        VARCHAR(200),
  term          BIGINT       NOT NULL,
  acquired_at   TIMESTAMP WITH TIME ZONE,
  expires_at    TIMESTAMP WITH TIME ZONE NOT NULL
);

INSERT INTO control_plane_lease (name, holder, term, acquired_at, expires_at)
  VALUES ('leader', NULL, 0, NULL, TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00:00');

-- open_key is the finding key while the incident is open and NULL once it is resolved; NULLs
-- never collide in a unique index on either engine.
ALTER TABLE incidents ADD COLUMN open_key VARCHAR(600);

UPDATE incidents SET open_key = incident_key
  WHERE resolved_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM incidents newer
                    WHERE newer.incident_key = incidents.incident_key
                      AND newer.resolved_at IS NULL
                      AND (newer.opened_at > incidents.opened_at
                           OR (newer.opened_at = incidents.opened_at AND newer.id > incidents.id)));

-- An older duplicate left open by an earlier release resolves now; the newest one stays open.
UPDATE incidents SET resolved_at = CURRENT_TIMESTAMP WHERE resolved_at IS NULL AND open_key IS NULL;

CREATE UNIQUE INDEX incidents_one_open_per_key ON incidents (open_key);
