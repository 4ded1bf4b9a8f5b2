-- Initial console schema. Times are INTEGER unix milliseconds UTC, with 0
-- for the zero time. Lists are JSON arrays of strings stored as TEXT.
-- Hashes are BLOBs.

CREATE TABLE responders (
	id          TEXT PRIMARY KEY,
	hostname    TEXT NOT NULL,
	fqdn        TEXT NOT NULL,
	ips         TEXT NOT NULL,
	macs        TEXT NOT NULL,
	os          TEXT NOT NULL,
	arch        TEXT NOT NULL,
	os_version  TEXT NOT NULL,
	version     TEXT NOT NULL,
	cert_serial TEXT NOT NULL,
	first_seen  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	online      INTEGER NOT NULL CHECK (online IN (0, 1))
) STRICT;

CREATE INDEX responders_by_hostname ON responders (hostname, id);

CREATE TABLE enroll_tokens (
	id           TEXT PRIMARY KEY,
	secret_hash  BLOB NOT NULL,
	single_use   INTEGER NOT NULL CHECK (single_use IN (0, 1)),
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	created_by   TEXT NOT NULL,
	use_count    INTEGER NOT NULL,
	last_used_by TEXT NOT NULL
) STRICT;

CREATE TABLE api_keys (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	secret_hash BLOB NOT NULL,
	role        TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	last_used   INTEGER NOT NULL
) STRICT;

CREATE TABLE triggers (
	name       TEXT PRIMARY KEY,
	profile    TEXT NOT NULL,
	parser     TEXT NOT NULL,
	token_hash BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	rotated_at INTEGER NOT NULL,
	created_by TEXT NOT NULL
) STRICT;

-- trigger_name has no foreign key because tasks created through the API
-- have none.
CREATE TABLE tasks (
	id           TEXT PRIMARY KEY,
	trigger_name TEXT NOT NULL,
	profile      TEXT NOT NULL,
	requester    TEXT NOT NULL,
	endpoints    TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX tasks_by_created_at ON tasks (created_at, id);

-- responder_id has no foreign key so that a task can target a responder
-- ID before that responder has enrolled.
CREATE TABLE assignments (
	id              TEXT PRIMARY KEY,
	task_id         TEXT NOT NULL REFERENCES tasks (id),
	responder_id    TEXT NOT NULL,
	state           TEXT NOT NULL CHECK (state IN (
		'pending', 'assigned', 'running', 'uploading',
		'completed', 'failed', 'cancelled', 'expired')),
	error           TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	started_at      INTEGER NOT NULL,
	finished_at     INTEGER NOT NULL,
	files_done      INTEGER NOT NULL,
	bytes_read      INTEGER NOT NULL,
	evidence_path   TEXT NOT NULL,
	evidence_sha256 TEXT NOT NULL,
	evidence_size   INTEGER NOT NULL
) STRICT;

CREATE INDEX assignments_by_responder_state ON assignments (responder_id, state);
CREATE INDEX assignments_by_task ON assignments (task_id);
-- The expiry sweep reads only open assignments, so the index skips the
-- terminal ones that make up most of the table over time.
CREATE INDEX assignments_open_by_expiry ON assignments (expires_at)
	WHERE state IN ('pending', 'assigned', 'running', 'uploading');

-- AUTOINCREMENT keeps an event ID from being reused even if old events
-- are pruned later.
CREATE TABLE audit_events (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	time   INTEGER NOT NULL,
	actor  TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	detail TEXT NOT NULL
) STRICT;

CREATE INDEX audit_events_by_time ON audit_events (time, id);
