-- Enrollment that cannot be taken twice, and security events that a retrying caller cannot
-- flood.

-- A token made with --replace may enroll a name that still has a live certificate (and
-- revokes it); a newer token for the same name supersedes older unused ones.
ALTER TABLE join_tokens ADD COLUMN replace_existing BOOLEAN DEFAULT FALSE NOT NULL;
ALTER TABLE join_tokens ADD COLUMN superseded_at TIMESTAMP WITH TIME ZONE;
CREATE INDEX join_tokens_by_host ON join_tokens (host_name);

-- Identical events from one caller within one minute share a row: the first occurrence's
-- time and peer, how many there were, and when the latest was.
ALTER TABLE security_events ADD COLUMN occurrences INT DEFAULT 1 NOT NULL;
ALTER TABLE security_events ADD COLUMN last_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE security_events ADD COLUMN minute_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE security_events ADD COLUMN fingerprint CHAR(64);
UPDATE security_events SET last_at = at;
CREATE UNIQUE INDEX security_events_by_minute ON security_events (minute_at, fingerprint);
CREATE INDEX security_events_by_at ON security_events (at);
