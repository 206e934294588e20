-- Browser sign-in to the dashboard. A one-time link (`ctl dashboard`) becomes a session
-- cookie; only SHA-256 hashes of link codes and session ids are stored, so a copy of the
-- database opens nothing. Both are bound to who asked: an operator certificate (its serial,
-- so revoking the certificate ends the session) or an API token (its hash). The owner is the
-- operator accountable: the operator who asked, or the one who made the token; revoking
-- sessions (`ctl dashboard --revoke-sessions`) ends every session and link of its owner.
CREATE TABLE dashboard_sign_in_links (
  code_hash        CHAR(64)     PRIMARY KEY,
  principal        VARCHAR(300) NOT NULL,
  owner            VARCHAR(300) NOT NULL,
  credential_kind  VARCHAR(32)  NOT NULL,
  credential       VARCHAR(128) NOT NULL,
  session_ttl_s    BIGINT       NOT NULL,
  created_at       TIMESTAMP WITH TIME ZONE NOT NULL,
  expires_at       TIMESTAMP WITH TIME ZONE NOT NULL,
  used_at          TIMESTAMP WITH TIME ZONE
);
CREATE INDEX dashboard_sign_in_links_by_owner ON dashboard_sign_in_links (owner);

CREATE TABLE dashboard_sessions (
  session_hash     CHAR(64)     PRIMARY KEY,
  principal        VARCHAR(300) NOT NULL,
  owner            VARCHAR(300) NOT NULL,
  credential_kind  VARCHAR(32)  NOT NULL,
  credential       VARCHAR(128) NOT NULL,
  created_at       TIMESTAMP WITH TIME ZONE NOT NULL,
  expires_at       TIMESTAMP WITH TIME ZONE NOT NULL,
  revoked_at       TIMESTAMP WITH TIME ZONE
);
CREATE INDEX dashboard_sessions_by_owner ON dashboard_sessions (owner);
