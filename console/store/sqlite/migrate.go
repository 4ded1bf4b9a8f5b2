package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema change, read from migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// SchemaVersionError reports a database written by a newer console, whose
// schema this binary cannot use.
type SchemaVersionError struct {
	Found     int // version recorded in the database
	Supported int // newest version this binary supports
}

func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this console supports (%d); upgrade the console", e.Found, e.Supported)
}

// loadMigrations returns the embedded migrations in version order. File
// names must start with a four-digit version, and versions must run 1, 2, 3
// and so on without gaps.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}

	var ms []migration
	for i, e := range entries { // ReadDir sorts by name
		prefix, _, ok := strings.Cut(e.Name(), "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil || len(prefix) != 4 {
			return nil, fmt.Errorf("migration %s: name must start with a four-digit version and an underscore", e.Name())
		}
		if version != i+1 {
			return nil, fmt.Errorf("migration %s: invalid version %d, expected %d because versions must have no gaps", e.Name(), version, i+1)
		}
		body, err := fs.ReadFile(migrationFiles, "migrations/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: version, name: e.Name(), sql: string(body)})
	}
	return ms, nil
}

// migrate applies the migrations that db lacks, each in its own
// transaction. Writer transactions begin IMMEDIATE, so the version check and
// the change hold the write lock together, and a second process opening the
// same file waits instead of applying a migration twice.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}

	const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`
	if _, err := db.ExecContext(ctx, createTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}

	for {
		done, err := migrateStep(ctx, db, ms)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// migrateStep applies the migration after the database's current version
// and reports whether the database was already up to date.
func migrateStep(ctx context.Context, db *sql.DB, ms []migration) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin migration: %w", err)
	}
	defer func() {
		if err != nil || done {
			_ = tx.Rollback() // nothing to commit, or err is returned instead
		}
	}()

	var current int
	row := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`)
	if err := row.Scan(&current); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	latest := len(ms)
	if current > latest {
		return false, &SchemaVersionError{Found: current, Supported: latest}
	}
	if current == latest {
		return true, nil
	}

	m := ms[current] // version current+1
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("apply migration %s: %w", m.name, err)
	}
	const record = `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`
	if _, err := tx.ExecContext(ctx, record, m.version, time.Now().UnixMilli()); err != nil {
		return false, fmt.Errorf("record migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit migration %s: %w", m.name, err)
	}
	return false, nil
}
