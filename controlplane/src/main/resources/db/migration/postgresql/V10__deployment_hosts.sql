-- The hosts a deployment names, one row each: the JSON column held at most 4,000 characters,
-- which a deployment naming a few hundred hosts outgrew. position keeps the order as given.
-- PostgreSQL form of h2/V10 (PostgreSQL 14 has no REGEXP_SUBSTR and no SYSTEM_RANGE).

CREATE TABLE deployment_hosts (
  deployment  VARCHAR(64)  NOT NULL REFERENCES deployments (name) ON DELETE CASCADE,
  position    INT          NOT NULL,
  host_name   VARCHAR(64)  NOT NULL,
  PRIMARY KEY (deployment, position)
);

-- Existing deployments: the stored JSON is an array of host names, which hold only
-- [a-z0-9.-] (checked before they were stored), so the n-th run of such characters is the
-- n-th host.
INSERT INTO deployment_hosts (deployment, position, host_name)
SELECT d.name, CAST(m.n AS INT) - 1, m.found[1]
FROM deployments d
  CROSS JOIN LATERAL regexp_matches(d.hosts_json, '[a-z0-9.-]+', 'g') WITH ORDINALITY AS m(found, n);

ALTER TABLE deployments DROP COLUMN hosts_json;
