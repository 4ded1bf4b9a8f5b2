// Package repository is the console's evidence repository: where verified
// evidence packages are kept and served from.
//
// An upload is written to a temporary file and hashed while it arrives. Only
// when its SHA-256 equals the hash the responder declared is it moved into
// place, atomically and without replacing an existing package. A failed
// check leaves nothing behind.
package repository

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Sentinel errors.
var (
	ErrHashMismatch = errors.New("evidence hash mismatch")
	ErrExists       = errors.New("evidence already stored")
	ErrNotFound     = errors.New("evidence not found")
	ErrBadOffset    = errors.New("chunk offset does not follow the stored bytes")
)

// Local keeps packages under a directory on the console's disk:
// DIR/TASK/ASSIGNMENT.tar.zst with a DIR/TASK/ASSIGNMENT.tar.zst.sha256
// sidecar in sha256sum format, and uploads in progress under DIR/.incoming.
type Local struct {
	dir string
}

// NewLocal creates the repository directories when missing.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(filepath.Join(dir, ".incoming"), 0o700); err != nil {
		return nil, fmt.Errorf("create evidence repository: %w", err)
	}
	return &Local{dir: dir}, nil
}

// Key returns the repository key of an assignment's package.
func Key(taskID, assignmentID string) string {
	return taskID + "/" + assignmentID + ".tar.zst"
}

// Upload is a package being received. It is not safe for concurrent use.
//
// Received bytes are hashed on a goroutine of their own, so that hashing
// overlaps with receiving and writing the next chunk.
type Upload struct {
	repo    *Local
	key     string
	file    *os.File
	hash    hash.Hash
	toHash  chan []byte
	hashed  chan struct{} // closed when the hash goroutine has ended
	written int64
	flushed int64 // bytes handed to startWriteback
	done    bool
}

// writebackEvery is how many bytes an upload accumulates before it starts
// writing them to disk in the background.
const writebackEvery = 32 << 20

// Create starts receiving the package stored under key.
func (l *Local) Create(key string) (*Upload, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if _, err := os.Stat(l.path(key)); err == nil {
		return nil, fmt.Errorf("create upload %s: %w", key, ErrExists)
	}
	f, err := os.CreateTemp(filepath.Join(l.dir, ".incoming"), "upload-*.partial")
	if err != nil {
		return nil, fmt.Errorf("create upload file: %w", err)
	}
	u := &Upload{repo: l, key: key, file: f, hash: sha256.New(), toHash: make(chan []byte, 16), hashed: make(chan struct{})}
	toHash, h := u.toHash, u.hash
	go func() {
		defer close(u.hashed)
		for p := range toHash {
			h.Write(p)
		}
	}()
	return u, nil
}

// stopHashing ends the hash goroutine and waits for it.
func (u *Upload) stopHashing() {
	if u.toHash != nil {
		close(u.toHash)
		u.toHash = nil
	}
	<-u.hashed
}

// WriteAt appends p, which must start at offset Written(). The upload keeps
// p until it is hashed, so the caller must not modify p afterwards.
func (u *Upload) WriteAt(p []byte, offset int64) error {
	if u.done {
		return fmt.Errorf("write upload %s: upload already ended", u.key)
	}
	if offset != u.written {
		return fmt.Errorf("%w: got offset %d, stored %d bytes", ErrBadOffset, offset, u.written)
	}
	if _, err := u.file.Write(p); err != nil {
		return fmt.Errorf("write upload %s: %w", u.key, err)
	}
	u.toHash <- p
	u.written += int64(len(p))
	if u.written-u.flushed >= writebackEvery {
		startWriteback(u.file, u.flushed, u.written-u.flushed)
		u.flushed = u.written
	}
	return nil
}

// Written returns the number of bytes stored so far.
func (u *Upload) Written() int64 { return u.written }

// Commit checks the received bytes against the declared SHA-256 (lowercase
// hex) and moves the package into place. On a mismatch it removes the upload
// and returns ErrHashMismatch.
func (u *Upload) Commit(declared string) (sum string, err error) {
	defer func() {
		if err != nil {
			u.Abort()
		}
	}()

	u.stopHashing()
	sum = hex.EncodeToString(u.hash.Sum(nil))
	if !strings.EqualFold(sum, declared) {
		return "", fmt.Errorf("%w: declared %s, received %s (%d bytes)", ErrHashMismatch, declared, sum, u.written)
	}
	if err := u.file.Sync(); err != nil {
		return "", fmt.Errorf("sync upload %s: %w", u.key, err)
	}
	if err := u.file.Close(); err != nil {
		return "", fmt.Errorf("close upload %s: %w", u.key, err)
	}

	final := u.repo.path(u.key)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return "", fmt.Errorf("create evidence directory: %w", err)
	}
	// A hard link fails when final exists, so two uploads for one key can
	// never replace stored evidence. A rename would replace it.
	if err := os.Link(u.file.Name(), final); err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("store %s: %w", u.key, ErrExists)
		}
		return "", fmt.Errorf("store %s: %w", u.key, err)
	}
	os.Remove(u.file.Name())
	u.done = true

	sidecar := fmt.Sprintf("%s  %s\n", sum, filepath.Base(final))
	if err := os.WriteFile(final+".sha256", []byte(sidecar), 0o600); err != nil {
		return sum, fmt.Errorf("write hash sidecar for %s: %w", u.key, err)
	}
	syncDir(filepath.Dir(final))
	return sum, nil
}

// Abort discards the upload. It is a no-op after a successful Commit.
func (u *Upload) Abort() {
	if u.done {
		return
	}
	u.done = true
	u.stopHashing()
	u.file.Close()
	os.Remove(u.file.Name())
}

// Open returns the stored package and its size.
func (l *Local) Open(key string) (io.ReadSeekCloser, int64, error) {
	if err := checkKey(key); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(l.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, fmt.Errorf("open %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("open %s: %w", key, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, info.Size(), nil
}

// Path returns where the package under key lives on disk.
func (l *Local) Path(key string) string { return l.path(key) }

func (l *Local) path(key string) string {
	return filepath.Join(l.dir, filepath.FromSlash(key))
}

// checkKey rejects keys that could leave the repository directory. Keys are
// built by the console from IDs it generated, so this guards against bugs,
// not against callers.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "..") || strings.HasPrefix(key, ".") {
		return fmt.Errorf("invalid evidence key %q", key)
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
