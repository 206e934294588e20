-- Operations: batched history of what hosts reported and what callers did, incidents with
-- their timelines, and API tokens for the HTTP operations surface. History and resolved
-- incidents are pruned after infraveil.retention.

CREATE TABLE history (
  id          BIGINT AUTO_INCREMENT PRIMARY KEY,
  at          TIMESTAMP WITH TIME ZONE NOT NULL,
  source      VARCHAR(16)   NOT NULL,
  host_name   VARCHAR(64)   DEFAULT '' NOT NULL,
  deployment  VARCHAR(64)   DEFAULT '' NOT NULL,
  service     VARCHAR(100)  DEFAULT '' NOT NULL,
  identity    VARCHAR(300)  DEFAULT '' NOT NULL,
  text        VARCHAR(4000) NOT NULL
);
CREATE INDEX history_by_at ON history (at);
CREATE INDEX history_by_deployment ON history (deployment, at);

CREATE TABLE incidents (
  id            VARCHAR(40)   PRIMARY KEY,
  incident_key  VARCHAR(600)  NOT NULL,
  rule          VARCHAR(64)   NOT NULL,
  summary       VARCHAR(2000) NOT NULL,
  host_name     VARCHAR(64)   DEFAULT '' NOT NULL,
  deployment    VARCHAR(64)   DEFAULT '' NOT NULL,
  service       VARCHAR(100)  DEFAULT '' NOT NULL,
  opened_at     TIMESTAMP WITH TIME ZONE NOT NULL,
  resolved_at   TIMESTAMP WITH TIME ZONE
);
CREATE INDEX incidents_by_opened ON incidents (opened_at);

CREATE TABLE incident_timeline (
  id           BIGINT AUTO_INCREMENT PRIMARY KEY,
  incident_id  VARCHAR(40)   NOT NULL,
  at           TIMESTAMP WITH TIME ZONE NOT NULL,
  source       VARCHAR(16)   NOT NULL,
  text         VARCHAR(4000) NOT NULL
);
CREATE INDEX incident_timeline_by_incident ON incident_timeline (incident_id, at);

-- Bearer tokens for the operations API, stored only as the SHA-256 of the token.
CREATE TABLE api_tokens (
  token_hash  CHAR(64)     PRIMARY KEY,
  name        VARCHAR(64)  NOT NULL,
  created_by  VARCHAR(300) NOT NULL,
  created_at  TIMESTAMP WITH TIME ZONE NOT NULL,
  expires_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
