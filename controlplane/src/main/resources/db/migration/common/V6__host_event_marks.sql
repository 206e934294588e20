-- Events from hosts are re-sent until acknowledged. Each carries the id of the agent or
-- launcher process that recorded it and a sequence increasing per process: the highest
-- sequence seen per (host, process) lets the control plane keep one of each, across its own
-- restarts too. Pruned with history.
CREATE TABLE host_event_marks (
  host_name      VARCHAR(64)  NOT NULL,
  instance_id    VARCHAR(64)  NOT NULL,
  last_sequence  BIGINT       NOT NULL,
  seen_at        TIMESTAMP WITH TIME ZONE NOT NULL,
  PRIMARY KEY (host_name, instance_id)
);
CREATE INDEX host_event_marks_by_seen ON host_event_marks (seen_at);
