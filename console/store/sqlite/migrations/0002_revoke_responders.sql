-- Revoked responders keep their row, so that past tasks still show their
-- hostnames; a non-zero revoked_at makes the console reject their
-- certificates.
ALTER TABLE responders ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;
