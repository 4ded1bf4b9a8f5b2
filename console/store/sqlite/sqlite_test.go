package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/magpie-ir/magpie/console/store"
	"github.com/magpie-ir/magpie/console/store/storetest"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "magpie.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t) })
}

var testTime = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "magpie.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	tr := store.Trigger{Name: "siem", Profile: "triage", Parser: "URL", TokenHash: []byte{1}, CreatedAt: testTime}
	if err := s.CreateTrigger(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.GetTrigger(ctx, "siem")
	if err != nil {
		t.Fatalf("trigger lost after reopen: %v", err)
	}
	if got.Profile != "triage" {
		t.Errorf("Profile = %q after reopen, want %q", got.Profile, "triage")
	}
	if v := schemaVersion(t, path); v != len(mustLoadMigrations(t)) {
		t.Errorf("schema version = %d after reopen, want %d", v, len(mustLoadMigrations(t)))
	}
}

func TestMigrationsRecorded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "magpie.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	db := rawDB(t, path)
	rows, err := db.Query(`SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var versions []int
	for rows.Next() {
		var v int
		var appliedAt int64
		if err := rows.Scan(&v, &appliedAt); err != nil {
			t.Fatal(err)
		}
		if appliedAt <= 0 {
			t.Errorf("migration %d has applied_at %d", v, appliedAt)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for i, v := range versions {
		if v != i+1 {
			t.Fatalf("recorded versions %v, want 1 to %d", versions, len(mustLoadMigrations(t)))
		}
	}
	if len(versions) != len(mustLoadMigrations(t)) {
		t.Errorf("recorded %d migrations, want %d", len(versions), len(mustLoadMigrations(t)))
	}
}

func TestNewerSchemaRejected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "magpie.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	supported := len(mustLoadMigrations(t))
	db := rawDB(t, path)
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 1)`, supported+1); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(t.Context(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a database with a newer schema")
	}
	var verr *SchemaVersionError
	if !errors.As(err, &verr) {
		t.Fatalf("error = %v, want a *SchemaVersionError", err)
	}
	if verr.Found != supported+1 || verr.Supported != supported {
		t.Errorf("SchemaVersionError = %+v, want Found=%d Supported=%d", verr, supported+1, supported)
	}
	want := fmt.Sprintf("database schema version %d is newer than this console supports (%d); upgrade the console", supported+1, supported)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

func TestFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix file modes")
	}
	path := filepath.Join(t.TempDir(), "new-dir", "magpie.db")
	s := openAt(t, path)

	// A write makes sure the -wal and -shm files exist.
	if err := s.AppendAudit(t.Context(), store.AuditEvent{Time: testTime, Action: "test.write"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), mode)
		}
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o700 {
		t.Errorf("created directory has mode %o, want 700", mode)
	}
}

func TestWALEnabled(t *testing.T) {
	s := openTest(t)
	for name, db := range map[string]*sql.DB{"writer": s.writer, "reader": s.reader} {
		var mode string
		if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" {
			t.Errorf("%s journal_mode = %q, want wal", name, mode)
		}
		var fk int
		if err := db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if fk != 1 {
			t.Errorf("%s foreign_keys = %d, want 1", name, fk)
		}
	}
}

func TestWriterSyncsEveryCommit(t *testing.T) {
	s := openTest(t)
	var level int
	if err := s.writer.QueryRow(`PRAGMA synchronous`).Scan(&level); err != nil {
		t.Fatal(err)
	}
	if level != 2 {
		t.Errorf("writer synchronous = %d, want 2 (FULL)", level)
	}
}

func TestReaderIsQueryOnly(t *testing.T) {
	s := openTest(t)
	_, err := s.reader.Exec(`INSERT INTO audit_events (time, actor, action, target, detail) VALUES (1, '', '', '', '')`)
	if err == nil {
		t.Error("reader connection accepted a write")
	}
}

func TestPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd ?#% name")
	path := filepath.Join(dir, "magpie.db")
	openAt(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not created at the given path: %v", err)
	}
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("Open created %d entries next to %q, want only that directory", len(entries), dir)
	}
}

func TestEmptyPathRejected(t *testing.T) {
	if _, err := Open(t.Context(), ""); err == nil {
		t.Error("Open accepted an empty path")
	}
}

func TestCreateTaskRejectsForeignAssignment(t *testing.T) {
	s := openTest(t)
	task := store.Task{ID: "t1", CreatedAt: testTime, ExpiresAt: testTime.Add(time.Hour)}
	a := store.Assignment{ID: "a1", TaskID: "t2", ResponderID: "r1", State: store.StatePending}
	err := s.CreateTask(t.Context(), task, []store.Assignment{a})
	if err == nil || !strings.Contains(err.Error(), `assignment "a1" has task ID "t2"`) {
		t.Errorf("error = %v, want one naming the assignment's wrong task ID", err)
	}
	if _, err := s.GetTask(t.Context(), "t1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("task written although CreateTask failed: %v", err)
	}
}

func TestUpdateAssignmentRejectsIdentityChange(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	task := store.Task{ID: "t1", CreatedAt: testTime, ExpiresAt: testTime.Add(time.Hour)}
	a := store.Assignment{ID: "a1", TaskID: "t1", ResponderID: "r1", State: store.StatePending, CreatedAt: testTime}
	if err := s.CreateTask(ctx, task, []store.Assignment{a}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		field  string
		mutate func(*store.Assignment)
	}{
		{"ID", func(a *store.Assignment) { a.ID = "a2" }},
		{"TaskID", func(a *store.Assignment) { a.TaskID = "t2" }},
		{"ResponderID", func(a *store.Assignment) { a.ResponderID = "r2" }},
		{"CreatedAt", func(a *store.Assignment) { a.CreatedAt = a.CreatedAt.Add(time.Second) }},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			_, err := s.UpdateAssignment(ctx, "a1", func(a *store.Assignment) error {
				a.State = store.StateRunning
				tc.mutate(a)
				return nil
			})
			if err == nil || !strings.Contains(err.Error(), tc.field+" cannot change") {
				t.Errorf("error = %v, want one saying %s cannot change", err, tc.field)
			}
			got, err := s.GetAssignment(ctx, "a1")
			if err != nil {
				t.Fatal(err)
			}
			if got.State != store.StatePending {
				t.Errorf("state = %s, want pending because the update was rejected", got.State)
			}
		})
	}
}

func TestExpireAssignmentsErrorText(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	task := store.Task{ID: "t1", CreatedAt: testTime, ExpiresAt: testTime}
	var as []store.Assignment
	for _, st := range []store.State{store.StatePending, store.StateAssigned, store.StateRunning, store.StateUploading} {
		as = append(as, store.Assignment{ID: string(st), TaskID: "t1", ResponderID: "r1", State: st, ExpiresAt: testTime})
	}
	if err := s.CreateTask(ctx, task, as); err != nil {
		t.Fatal(err)
	}

	got, err := s.ExpireAssignments(ctx, testTime)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pending":   "expired before the responder ran it",
		"assigned":  "expired before the responder ran it",
		"running":   "expired before the responder finished it",
		"uploading": "expired before the responder finished it",
	}
	if len(got) != len(want) {
		t.Fatalf("ExpireAssignments returned %d assignments, want %d", len(got), len(want))
	}
	for i, a := range got {
		if i > 0 && got[i-1].ID >= a.ID {
			t.Errorf("result not ordered by ID: %s before %s", got[i-1].ID, a.ID)
		}
		if a.Error != want[a.ID] {
			t.Errorf("%s error = %q, want %q", a.ID, a.Error, want[a.ID])
		}
		if !a.UpdatedAt.Equal(testTime) {
			t.Errorf("%s UpdatedAt = %v, want %v", a.ID, a.UpdatedAt, testTime)
		}
	}
}

func TestNotFoundErrorNamesID(t *testing.T) {
	s := openTest(t)
	_, err := s.GetTrigger(t.Context(), "siem-prod")
	if want := `get trigger "siem-prod": not found`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestTimesRoundTripInUTC(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	local := time.Date(2026, time.March, 1, 14, 0, 0, 123456789, time.FixedZone("CET", 3600))
	if err := s.AppendAudit(ctx, store.AuditEvent{Time: local, Action: "test.time"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListAudit(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := local.Truncate(time.Millisecond).UTC()
	if got[0].Time != want {
		t.Errorf("Time = %v, want %v (truncated to the millisecond, in UTC)", got[0].Time, want)
	}
}

func TestLoadMigrations(t *testing.T) {
	ms := mustLoadMigrations(t)
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
	for i, m := range ms {
		if m.version != i+1 {
			t.Errorf("migration %d (%s) has version %d", i, m.name, m.version)
		}
		if strings.TrimSpace(m.sql) == "" {
			t.Errorf("migration %s is empty", m.name)
		}
	}
}

// TestConcurrentTriggerBurst creates 1,000 tasks at once, the load that a
// burst of trigger calls puts on the store, and expects no error such as
// SQLITE_BUSY.
func TestConcurrentTriggerBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 transactions")
	}
	ctx := t.Context()
	s := openTest(t)

	const calls = 1000
	var next atomic.Int64
	if err := createTasksConcurrently(ctx, s, &next, calls); err != nil {
		t.Fatal(err)
	}

	tasks, err := s.ListTasks(ctx, 2*calls)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != calls {
		t.Errorf("ListTasks returned %d tasks, want %d", len(tasks), calls)
	}
}

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawDB opens path without the Store, for tests that inspect or alter the
// file directly.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func schemaVersion(t *testing.T, path string) int {
	t.Helper()
	var v int
	if err := rawDB(t, path).QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustLoadMigrations(t *testing.T) []migration {
	t.Helper()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	return ms
}
