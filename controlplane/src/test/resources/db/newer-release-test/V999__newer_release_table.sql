-- Stands for a migration of a release newer than this one (SchemaUpgradeTest).
CREATE TABLE newer_release_table (id BIGINT PRIMARY KEY);
