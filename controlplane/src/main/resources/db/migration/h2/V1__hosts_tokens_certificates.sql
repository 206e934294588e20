-- Hosts, join tokens, issued certificates and revocations: the identity half of the store.

CREATE TABLE hosts (
  name                VARCHAR(64)  PRIMARY KEY,
  identity            VARCHAR(300) NOT NULL,
  labels_json         VARCHAR(4000) DEFAULT '{}' NOT NULL,
  host_secret_sealed  VARBINARY(256) NOT NULL,
  enrolled_at         TIMESTAMP WITH TIME ZONE NOT NULL,
  revoked_at          TIMESTAMP WITH TIME ZONE,
  desired_revision    BIGINT DEFAULT 0 NOT NULL,
  acked_revision      BIGINT DEFAULT 0 NOT NULL
);

-- Tokens are stored only as the SHA-256 of the token; the token itself is shown once.
CREATE TABLE join_tokens (
  token_hash   CHAR(64)     PRIMARY KEY,
  host_name    VARCHAR(64)  NOT NULL,
  labels_json  VARCHAR(4000) DEFAULT '{}' NOT NULL,
  created_by   VARCHAR(300) NOT NULL,
  created_at   TIMESTAMP WITH TIME ZONE NOT NULL,
  expires_at   TIMESTAMP WITH TIME ZONE NOT NULL,
  used_at      TIMESTAMP WITH TIME ZONE
);

CREATE TABLE certificates (
  serial      VARCHAR(64)  PRIMARY KEY,
  identity    VARCHAR(300) NOT NULL,
  host_name   VARCHAR(64),
  not_before  TIMESTAMP WITH TIME ZONE NOT NULL,
  not_after   TIMESTAMP WITH TIME ZONE NOT NULL,
  issued_at   TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX certificates_by_host ON certificates (host_name);

CREATE TABLE revocations (
  serial      VARCHAR(64)  PRIMARY KEY,
  revoked_at  TIMESTAMP WITH TIME ZONE NOT NULL,
  reason      VARCHAR(1000) NOT NULL
);

CREATE TABLE security_events (
  id        BIGINT AUTO_INCREMENT PRIMARY KEY,
  at        TIMESTAMP WITH TIME ZONE NOT NULL,
  kind      VARCHAR(64)  NOT NULL,
  identity  VARCHAR(300),
  method    VARCHAR(300),
  message   VARCHAR(2000) NOT NULL,
  peer      VARCHAR(100)
);
