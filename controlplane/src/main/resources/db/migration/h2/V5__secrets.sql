-- Secrets an operator sets per deployment. Only the newest version of each is kept. The value
-- is sealed with a per-version data key, and that key with the control plane's master key;
-- neither is ever stored or logged in the clear.

CREATE TABLE secrets (
  deployment       VARCHAR(64)  NOT NULL,
  name             VARCHAR(64)  NOT NULL,
  version          BIGINT       NOT NULL,
  value_sealed     VARBINARY(65600) NOT NULL,
  data_key_sealed  VARBINARY(256) NOT NULL,
  set_by           VARCHAR(300) NOT NULL,
  set_at           TIMESTAMP WITH TIME ZONE NOT NULL,
  PRIMARY KEY (deployment, name)
);

-- Versions only grow, even across deletion, so a host never mistakes an old value for new.
CREATE TABLE secret_versions (
  deployment    VARCHAR(64) NOT NULL,
  name          VARCHAR(64) NOT NULL,
  last_version  BIGINT      NOT NULL,
  PRIMARY KEY (deployment, name)
);
