package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/magpie-ir/magpie/console/store"
)

const taskColumns = `id, trigger_name, profile, requester, endpoints, created_at, expires_at`

const assignmentColumns = `id, task_id, responder_id, state, error, created_at, updated_at,
	expires_at, started_at, finished_at, files_done, bytes_read, evidence_path,
	evidence_sha256, evidence_size`

// openStates lists the non-terminal states as an SQL list.
const openStates = `('pending', 'assigned', 'running', 'uploading')`

// CreateTask writes the task and its assignments in one transaction. Every
// assignment's TaskID must equal t.ID. A duplicate task or assignment ID
// returns store.ErrConflict and writes nothing.
func (s *Store) CreateTask(ctx context.Context, t store.Task, as []store.Assignment) error {
	for _, a := range as {
		if a.TaskID != t.ID {
			return fmt.Errorf("create task %q: assignment %q has task ID %q; set it to the task's ID", t.ID, a.ID, a.TaskID)
		}
	}

	err := s.write(ctx, func(tx *sql.Tx) error {
		const insertTask = `INSERT INTO tasks (` + taskColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
		_, err := tx.ExecContext(ctx, insertTask, t.ID, t.TriggerName, t.Profile, t.Requester,
			encodeList(t.Endpoints), toMillis(t.CreatedAt), toMillis(t.ExpiresAt))
		if err != nil {
			return mapInsertError(err)
		}
		if len(as) == 0 {
			return nil
		}

		const insertAssignment = `INSERT INTO assignments (` + assignmentColumns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
		stmt, err := tx.PrepareContext(ctx, insertAssignment)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, a := range as {
			if _, err := stmt.ExecContext(ctx, assignmentArgs(a)...); err != nil {
				return fmt.Errorf("assignment %q: %w", a.ID, mapInsertError(err))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create task %q: %w", t.ID, err)
	}
	return nil
}

// GetTask returns the task with the given ID.
func (s *Store) GetTask(ctx context.Context, id string) (store.Task, error) {
	row := s.reader.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = ?`, id)
	t, err := scanTask(row)
	if err != nil {
		return store.Task{}, fmt.Errorf("get task %q: %w", id, mapNoRows(err))
	}
	return t, nil
}

// ListTasks returns at most limit tasks, newest CreatedAt first and the
// greater ID first among equal times. A limit of 0 returns none, and a
// negative limit is an error.
func (s *Store) ListTasks(ctx context.Context, limit int) ([]store.Task, error) {
	if limit < 0 {
		return nil, fmt.Errorf("list tasks: invalid limit %d: must not be negative", limit)
	}
	if limit == 0 {
		return nil, nil
	}
	const query = `SELECT ` + taskColumns + ` FROM tasks ORDER BY created_at DESC, id DESC LIMIT ?`
	rows, err := s.reader.QueryContext(ctx, query, limit)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	defer rows.Close()

	var ts []store.Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return ts, nil
}

// ListAssignments returns the assignments of one task ordered by ID. A task
// with no assignments, or no such task, returns an empty list.
func (s *Store) ListAssignments(ctx context.Context, taskID string) ([]store.Assignment, error) {
	const query = `SELECT ` + assignmentColumns + ` FROM assignments WHERE task_id = ? ORDER BY id`
	as, err := queryAssignments(ctx, s.reader, query, taskID)
	if err != nil {
		return nil, fmt.Errorf("list assignments of task %q: %w", taskID, err)
	}
	return as, nil
}

// GetAssignment returns the assignment with the given ID.
func (s *Store) GetAssignment(ctx context.Context, id string) (store.Assignment, error) {
	row := s.reader.QueryRowContext(ctx, `SELECT `+assignmentColumns+` FROM assignments WHERE id = ?`, id)
	a, err := scanAssignment(row)
	if err != nil {
		return store.Assignment{}, fmt.Errorf("get assignment %q: %w", id, mapNoRows(err))
	}
	return a, nil
}

// OpenAssignments returns the responder's assignments in state pending,
// assigned, running or uploading that expire after now, oldest CreatedAt
// first and by ID among equal times.
func (s *Store) OpenAssignments(ctx context.Context, responderID string, now time.Time) ([]store.Assignment, error) {
	const query = `SELECT ` + assignmentColumns + ` FROM assignments
		WHERE responder_id = ? AND state IN ` + openStates + ` AND expires_at > ?
		ORDER BY created_at, id`
	as, err := queryAssignments(ctx, s.reader, query, responderID, toMillis(now))
	if err != nil {
		return nil, fmt.Errorf("list open assignments of responder %q: %w", responderID, err)
	}
	return as, nil
}

// UpdateAssignment loads the assignment, calls mutate on it and writes the
// result back in one transaction. The error from mutate is returned
// unwrapped and nothing is written. Changing ID, TaskID, ResponderID or
// CreatedAt in mutate is an error.
func (s *Store) UpdateAssignment(ctx context.Context, id string, mutate func(*store.Assignment) error) (store.Assignment, error) {
	var (
		updated   store.Assignment
		mutateErr error
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `SELECT `+assignmentColumns+` FROM assignments WHERE id = ?`, id)
		before, err := scanAssignment(row)
		if err != nil {
			return mapNoRows(err)
		}

		a := before
		if mutateErr = mutate(&a); mutateErr != nil {
			return mutateErr
		}
		if err := checkImmutable(before, a); err != nil {
			return err
		}

		const update = `UPDATE assignments SET state = ?, error = ?, updated_at = ?,
			expires_at = ?, started_at = ?, finished_at = ?, files_done = ?, bytes_read = ?,
			evidence_path = ?, evidence_sha256 = ?, evidence_size = ? WHERE id = ?`
		_, err = tx.ExecContext(ctx, update, string(a.State), a.Error, toMillis(a.UpdatedAt),
			toMillis(a.ExpiresAt), toMillis(a.StartedAt), toMillis(a.FinishedAt), a.FilesDone,
			a.BytesRead, a.EvidencePath, a.EvidenceSHA256, a.EvidenceSize, id)
		if err != nil {
			return err
		}
		updated = a
		return nil
	})
	if mutateErr != nil {
		return store.Assignment{}, mutateErr
	}
	if err != nil {
		return store.Assignment{}, fmt.Errorf("update assignment %q: %w", id, err)
	}
	return roundTimes(updated), nil
}

// checkImmutable returns an error naming the first field that identifies
// the assignment and that mutate changed.
func checkImmutable(before, after store.Assignment) error {
	switch {
	case after.ID != before.ID:
		return fmt.Errorf("mutate changed ID to %q; ID cannot change", after.ID)
	case after.TaskID != before.TaskID:
		return fmt.Errorf("mutate changed TaskID to %q; TaskID cannot change", after.TaskID)
	case after.ResponderID != before.ResponderID:
		return fmt.Errorf("mutate changed ResponderID to %q; ResponderID cannot change", after.ResponderID)
	case !after.CreatedAt.Equal(before.CreatedAt):
		return errors.New("mutate changed CreatedAt; CreatedAt cannot change")
	}
	return nil
}

// ExpireAssignments moves every non-terminal assignment whose ExpiresAt is
// not after now to state expired, sets UpdatedAt and FinishedAt to now, and
// returns the expired assignments ordered by ID. Error states whether the
// responder had started the assignment.
func (s *Store) ExpireAssignments(ctx context.Context, now time.Time) ([]store.Assignment, error) {
	const query = `UPDATE assignments SET
			state = 'expired',
			error = CASE WHEN state IN ('running', 'uploading')
				THEN 'expired before the responder finished it'
				ELSE 'expired before the responder ran it' END,
			updated_at = ?1,
			finished_at = ?1
		WHERE state IN ` + openStates + ` AND expires_at <= ?1
		RETURNING ` + assignmentColumns
	var as []store.Assignment
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		as, err = queryAssignments(ctx, tx, query, toMillis(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("expire assignments: %w", err)
	}

	// RETURNING yields rows in no defined order.
	slices.SortFunc(as, func(a, b store.Assignment) int { return strings.Compare(a.ID, b.ID) })
	return as, nil
}

// querier is the query method shared by *sql.DB and *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryAssignments(ctx context.Context, q querier, query string, args ...any) ([]store.Assignment, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	var as []store.Assignment
	for rows.Next() {
		a, err := scanAssignment(rows)
		if err != nil {
			return nil, err
		}
		as = append(as, a)
	}
	return as, rows.Err()
}

func assignmentArgs(a store.Assignment) []any {
	return []any{a.ID, a.TaskID, a.ResponderID, string(a.State), a.Error,
		toMillis(a.CreatedAt), toMillis(a.UpdatedAt), toMillis(a.ExpiresAt),
		toMillis(a.StartedAt), toMillis(a.FinishedAt), a.FilesDone, a.BytesRead,
		a.EvidencePath, a.EvidenceSHA256, a.EvidenceSize}
}

func scanAssignment(sc scanner) (store.Assignment, error) {
	var (
		a                                       store.Assignment
		state                                   string
		created, updated, expires, started, fin int64
	)
	err := sc.Scan(&a.ID, &a.TaskID, &a.ResponderID, &state, &a.Error, &created, &updated,
		&expires, &started, &fin, &a.FilesDone, &a.BytesRead, &a.EvidencePath,
		&a.EvidenceSHA256, &a.EvidenceSize)
	if err != nil {
		return store.Assignment{}, err
	}
	a.State = store.State(state)
	a.CreatedAt = fromMillis(created)
	a.UpdatedAt = fromMillis(updated)
	a.ExpiresAt = fromMillis(expires)
	a.StartedAt = fromMillis(started)
	a.FinishedAt = fromMillis(fin)
	return a, nil
}

// roundTimes returns a with its times as they read back from the database,
// so UpdateAssignment returns what GetAssignment would.
func roundTimes(a store.Assignment) store.Assignment {
	a.CreatedAt = fromMillis(toMillis(a.CreatedAt))
	a.UpdatedAt = fromMillis(toMillis(a.UpdatedAt))
	a.ExpiresAt = fromMillis(toMillis(a.ExpiresAt))
	a.StartedAt = fromMillis(toMillis(a.StartedAt))
	a.FinishedAt = fromMillis(toMillis(a.FinishedAt))
	return a
}

func scanTask(sc scanner) (store.Task, error) {
	var (
		t                    store.Task
		endpoints            string
		createdAt, expiresAt int64
	)
	err := sc.Scan(&t.ID, &t.TriggerName, &t.Profile, &t.Requester, &endpoints, &createdAt, &expiresAt)
	if err != nil {
		return store.Task{}, err
	}
	if t.Endpoints, err = decodeList("endpoints", endpoints); err != nil {
		return store.Task{}, err
	}
	t.CreatedAt = fromMillis(createdAt)
	t.ExpiresAt = fromMillis(expiresAt)
	return t, nil
}
