// Package sqlite implements store.Store on an embedded SQLite database file,
// using the pure-Go modernc.org/sqlite driver so the console builds without
// cgo.
//
// # Concurrency
//
// A Store holds two connection pools on the same file. Every write
// transaction runs on a writer pool limited to one connection, so writers in
// this process queue in database/sql instead of competing for the SQLite
// write lock. Reads run on a separate pool of query-only connections, which
// WAL mode lets proceed while a write is in progress. Writer transactions
// start with BEGIN IMMEDIATE and every connection sets busy_timeout, so
// another process that opens the same file waits for the lock instead of
// failing at once.
//
// The alternative, a pool of several writer connections that all use BEGIN
// IMMEDIATE, leaves the queueing to SQLite's busy handler, which sleeps
// between retries for 1 ms growing to 100 ms. In BenchmarkTriggerBurst, 1,000
// concurrent CreateTask calls finished about twice as fast with the single
// writer as with eight writers. BENCHMARKS.md has the numbers.
//
// Because there is one writer connection, the mutate function passed to
// UpdateAssignment and the check function passed to ConsumeEnrollToken must
// not write through the same Store. Such a write would wait for the
// connection that the caller holds, so both block until the context ends.
//
// # Storage format
//
// Times are INTEGER unix milliseconds UTC, and 0 stands for the zero
// time.Time, so times read back truncated to the millisecond and in UTC.
// String lists are JSON arrays in TEXT columns, and empty lists read back as
// nil. Hashes are BLOBs. The schema lives in the migrations directory.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/magpie-ir/magpie/console/store"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// busyTimeoutMillis bounds how long a connection waits for a lock that
// another process holds.
const busyTimeoutMillis = 5000

// Store is a store.Store backed by one SQLite database file.
type Store struct {
	writer *sql.DB // one connection; every write transaction runs here
	reader *sql.DB // query-only connections for single-statement reads
}

var _ store.Store = (*Store)(nil)

// options holds settings that only benchmarks change.
type options struct {
	// writerConns is the size of the writer pool. Open uses 1.
	writerConns int
}

// Open opens the database file at path, creating it with mode 0600 and its
// parent directory with mode 0700 when they are missing, and applies any
// schema migrations the file lacks. It fails when the file's schema version
// is newer than this binary supports; the error is a *SchemaVersionError.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, options{writerConns: 1})
}

func open(ctx context.Context, path string, opts options) (*Store, error) {
	if path == "" {
		return nil, errors.New("open store: database path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := createFile(abs); err != nil {
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}

	s, err := openPools(ctx, abs, opts)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	if err := migrate(ctx, s.writer); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	return s, nil
}

// createFile creates the database file with mode 0600 unless it exists.
// SQLite would otherwise create it with mode 0644 less the umask. SQLite
// gives the -wal and -shm files it creates later the mode of the database
// file. An existing file keeps its mode.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create database directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	return f.Close()
}

func openPools(ctx context.Context, path string, opts options) (*Store, error) {
	// synchronous(FULL) syncs the WAL on every commit, so a committed task
	// or audit event survives a power loss. NORMAL made BenchmarkCreateTask
	// 2-4 times faster but can lose the last commits on a power loss.
	writer, err := sql.Open("sqlite", dsn(path,
		"_txlock=immediate",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
	))
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(opts.writerConns)
	writer.SetMaxIdleConns(opts.writerConns)
	// Connect the writer first: it switches the file to WAL mode, which the
	// query-only reader connections cannot do.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("connect writer: %w", err)
	}

	reader, err := sql.Open("sqlite", dsn(path, "_pragma=query_only(1)"))
	if err != nil {
		writer.Close()
		return nil, err
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	if err := reader.PingContext(ctx); err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("connect reader: %w", err)
	}

	return &Store{writer: writer, reader: reader}, nil
}

// dsn returns a file: URI for path with the pragmas every connection needs
// plus extra query parameters.
func dsn(path string, extra ...string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:///C:/dir/magpie.db
	}
	params := append([]string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMillis),
		"_pragma=foreign_keys(1)",
	}, extra...)
	return "file://" + (&url.URL{Path: p}).EscapedPath() + "?" + strings.Join(params, "&")
}

// Close closes both connection pools.
func (s *Store) Close() error {
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// write runs fn in a transaction on the writer connection and commits when
// fn returns nil.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // fn's error is the cause, so it is the one returned
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// execOne runs a single-statement write and returns store.ErrNotFound when
// it changed no row.
func (s *Store) execOne(ctx context.Context, query string, args ...any) error {
	res, err := s.writer.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// mapInsertError turns a primary key or unique constraint violation into
// store.ErrConflict and leaves every other error as it is.
func mapInsertError(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return store.ErrConflict
		}
	}
	return err
}

// mapNoRows turns sql.ErrNoRows into store.ErrNotFound.
func mapNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
