-- The hosts a deployment names, one row each: the JSON column held at most 4,000 characters,
-- which a deployment naming a few hundred hosts outgrew. position keeps the order as given.

CREATE TABLE deployment_hosts (
  deployment  VARCHAR(64)  NOT NULL REFERENCES deployments (name) ON DELETE CASCADE,
  position    INT          NOT NULL,
  host_name   VARCHAR(64)  NOT NULL,
  PRIMARY KEY (deployment, position)
);

-- Existing deployments: the stored JSON is an array of host names, which hold only
-- [a-z0-9.-] (checked before they were stored), so the n-th run of such characters is the
-- n-th host. 4,000 characters hold fewer than 1,000 names ("a", plus quotes and a comma).
INSERT INTO deployment_hosts (deployment, position, host_name)
SELECT d.name, CAST(r.X AS INT) - 1, REGEXP_SUBSTR(d.hosts_json, '[a-z0-9.-]+', 1, CAST(r.X AS INT))
FROM deployments d JOIN SYSTEM_RANGE(1, 1000) r
  ON REGEXP_SUBSTR(d.hosts_json, '[a-z0-9.-]+', 1, CAST(r.X AS INT)) IS NOT NULL;

ALTER TABLE deployments DROP COLUMN hosts_json;
