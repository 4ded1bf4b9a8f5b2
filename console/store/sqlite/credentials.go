package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/magpie-ir/magpie/console/store"
)

// CreateEnrollToken inserts t and returns store.ErrConflict when its ID
// exists.
func (s *Store) CreateEnrollToken(ctx context.Context, t store.EnrollToken) error {
	const query = `INSERT INTO enroll_tokens (id, secret_hash, single_use, created_at,
		expires_at, created_by, use_count, last_used_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	_, err := s.writer.ExecContext(ctx, query, t.ID, blob(t.SecretHash), t.SingleUse,
		toMillis(t.CreatedAt), toMillis(t.ExpiresAt), t.CreatedBy, t.UseCount, t.LastUsedBy)
	if err != nil {
		return fmt.Errorf("create enroll token %q: %w", t.ID, mapInsertError(err))
	}
	return nil
}

// ConsumeEnrollToken checks and records one use of a token in a single
// transaction, so two responders cannot both use a single-use token. A
// token expires at ExpiresAt: at equal to ExpiresAt is already too late.
// The error from check is returned unwrapped.
func (s *Store) ConsumeEnrollToken(ctx context.Context, id string, at time.Time, responderID string, check func(store.EnrollToken) error) error {
	var checkErr error
	err := s.write(ctx, func(tx *sql.Tx) error {
		const query = `SELECT id, secret_hash, single_use, created_at, expires_at,
			created_by, use_count, last_used_by FROM enroll_tokens WHERE id = ?`
		var (
			t                    store.EnrollToken
			createdAt, expiresAt int64
		)
		err := tx.QueryRowContext(ctx, query, id).Scan(&t.ID, &t.SecretHash, &t.SingleUse,
			&createdAt, &expiresAt, &t.CreatedBy, &t.UseCount, &t.LastUsedBy)
		if err != nil {
			return mapNoRows(err)
		}
		t.CreatedAt = fromMillis(createdAt)
		t.ExpiresAt = fromMillis(expiresAt)

		if !t.ExpiresAt.After(at) {
			return store.ErrExpired
		}
		if t.SingleUse && t.UseCount > 0 {
			return store.ErrUsed
		}
		if checkErr = check(t); checkErr != nil {
			return checkErr
		}

		const update = `UPDATE enroll_tokens SET use_count = use_count + 1, last_used_by = ? WHERE id = ?`
		_, err = tx.ExecContext(ctx, update, responderID, id)
		return err
	})
	if checkErr != nil {
		return checkErr
	}
	if err != nil {
		return fmt.Errorf("consume enroll token %q: %w", id, err)
	}
	return nil
}

// CreateAPIKey inserts k and returns store.ErrConflict when its ID exists.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	const query = `INSERT INTO api_keys (id, name, secret_hash, role, created_at, last_used)
		VALUES (?, ?, ?, ?, ?, ?)`
	_, err := s.writer.ExecContext(ctx, query, k.ID, k.Name, blob(k.SecretHash), k.Role,
		toMillis(k.CreatedAt), toMillis(k.LastUsed))
	if err != nil {
		return fmt.Errorf("create API key %q: %w", k.ID, mapInsertError(err))
	}
	return nil
}

// GetAPIKey returns the API key with the given ID.
func (s *Store) GetAPIKey(ctx context.Context, id string) (store.APIKey, error) {
	const query = `SELECT id, name, secret_hash, role, created_at, last_used FROM api_keys WHERE id = ?`
	var (
		k                   store.APIKey
		createdAt, lastUsed int64
	)
	err := s.reader.QueryRowContext(ctx, query, id).Scan(&k.ID, &k.Name, &k.SecretHash, &k.Role, &createdAt, &lastUsed)
	if err != nil {
		return store.APIKey{}, fmt.Errorf("get API key %q: %w", id, mapNoRows(err))
	}
	k.CreatedAt = fromMillis(createdAt)
	k.LastUsed = fromMillis(lastUsed)
	return k, nil
}

// TouchAPIKey sets LastUsed.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if err := s.execOne(ctx, `UPDATE api_keys SET last_used = ? WHERE id = ?`, toMillis(at), id); err != nil {
		return fmt.Errorf("touch API key %q: %w", id, err)
	}
	return nil
}

const triggerColumns = `name, profile, parser, token_hash, created_at, rotated_at, created_by`

// CreateTrigger inserts t and returns store.ErrConflict when its name
// exists.
func (s *Store) CreateTrigger(ctx context.Context, t store.Trigger) error {
	const query = `INSERT INTO triggers (` + triggerColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	_, err := s.writer.ExecContext(ctx, query, t.Name, t.Profile, t.Parser, blob(t.TokenHash),
		toMillis(t.CreatedAt), toMillis(t.RotatedAt), t.CreatedBy)
	if err != nil {
		return fmt.Errorf("create trigger %q: %w", t.Name, mapInsertError(err))
	}
	return nil
}

// GetTrigger returns the trigger with the given name.
func (s *Store) GetTrigger(ctx context.Context, name string) (store.Trigger, error) {
	row := s.reader.QueryRowContext(ctx, `SELECT `+triggerColumns+` FROM triggers WHERE name = ?`, name)
	t, err := scanTrigger(row)
	if err != nil {
		return store.Trigger{}, fmt.Errorf("get trigger %q: %w", name, mapNoRows(err))
	}
	return t, nil
}

// ListTriggers returns all triggers ordered by name.
func (s *Store) ListTriggers(ctx context.Context) ([]store.Trigger, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+triggerColumns+` FROM triggers ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list triggers: %w", err)
	}
	defer rows.Close()

	var ts []store.Trigger
	for rows.Next() {
		t, err := scanTrigger(rows)
		if err != nil {
			return nil, fmt.Errorf("list triggers: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list triggers: %w", err)
	}
	return ts, nil
}

// RotateTriggerToken replaces the token hash and sets RotatedAt.
func (s *Store) RotateTriggerToken(ctx context.Context, name string, tokenHash []byte, at time.Time) error {
	const query = `UPDATE triggers SET token_hash = ?, rotated_at = ? WHERE name = ?`
	if err := s.execOne(ctx, query, blob(tokenHash), toMillis(at), name); err != nil {
		return fmt.Errorf("rotate trigger %q token: %w", name, err)
	}
	return nil
}

func scanTrigger(sc scanner) (store.Trigger, error) {
	var (
		t                    store.Trigger
		createdAt, rotatedAt int64
	)
	if err := sc.Scan(&t.Name, &t.Profile, &t.Parser, &t.TokenHash, &createdAt, &rotatedAt, &t.CreatedBy); err != nil {
		return store.Trigger{}, err
	}
	t.CreatedAt = fromMillis(createdAt)
	t.RotatedAt = fromMillis(rotatedAt)
	return t, nil
}
