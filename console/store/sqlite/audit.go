package sqlite

import (
	"context"
	"fmt"

	"github.com/magpie-ir/magpie/console/store"
)

// AppendAudit inserts e. The database assigns the event ID, so e.ID is
// ignored.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent) error {
	const query = `INSERT INTO audit_events (time, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)`
	if _, err := s.writer.ExecContext(ctx, query, toMillis(e.Time), e.Actor, e.Action, e.Target, e.Detail); err != nil {
		return fmt.Errorf("append audit event %s on %q: %w", e.Action, e.Target, err)
	}
	return nil
}

// ListAudit returns at most limit events, newest Time first and the later
// appended first among equal times. A limit of 0 returns none, and a
// negative limit is an error.
func (s *Store) ListAudit(ctx context.Context, limit int) ([]store.AuditEvent, error) {
	if limit < 0 {
		return nil, fmt.Errorf("list audit events: invalid limit %d: must not be negative", limit)
	}
	if limit == 0 {
		return nil, nil
	}
	const query = `SELECT id, time, actor, action, target, detail FROM audit_events
		ORDER BY time DESC, id DESC LIMIT ?`
	rows, err := s.reader.QueryContext(ctx, query, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	defer rows.Close()

	var es []store.AuditEvent
	for rows.Next() {
		var (
			e    store.AuditEvent
			time int64
		)
		if err := rows.Scan(&e.ID, &time, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("list audit events: %w", err)
		}
		e.Time = fromMillis(time)
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return es, nil
}
