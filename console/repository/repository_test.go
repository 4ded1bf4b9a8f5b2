package repository

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestCommitStoresVerifiedPackage(t *testing.T) {
	repo, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("evidence bytes")
	up, err := repo.Create(Key("t1", "a1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := up.WriteAt(data[:5], 0); err != nil {
		t.Fatal(err)
	}
	if err := up.WriteAt(data[5:], 5); err != nil {
		t.Fatal(err)
	}
	got, err := up.Commit(sum(data))
	if err != nil {
		t.Fatal(err)
	}
	if got != sum(data) {
		t.Fatalf("Commit returned %s, want %s", got, sum(data))
	}

	f, size, err := repo.Open(Key("t1", "a1"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stored, _ := io.ReadAll(f)
	if string(stored) != string(data) || size != int64(len(data)) {
		t.Fatalf("stored %q (%d bytes), want %q", stored, size, data)
	}
	sidecar, err := os.ReadFile(repo.Path(Key("t1", "a1")) + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	if want := sum(data) + "  a1.tar.zst\n"; string(sidecar) != want {
		t.Fatalf("sidecar = %q, want %q", sidecar, want)
	}
}

func TestCommitRejectsWrongHash(t *testing.T) {
	dir := t.TempDir()
	repo, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	up, err := repo.Create(Key("t1", "a1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := up.WriteAt([]byte("tampered"), 0); err != nil {
		t.Fatal(err)
	}
	_, err = up.Commit(sum([]byte("original")))
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("Commit error = %v, want ErrHashMismatch", err)
	}
	if _, _, err := repo.Open(Key("t1", "a1")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open after failed commit: %v, want ErrNotFound", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".incoming", "*"))
	if len(leftovers) != 0 {
		t.Fatalf("failed upload left files: %v", leftovers)
	}
}

func TestWriteAtRejectsGap(t *testing.T) {
	repo, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	up, err := repo.Create(Key("t1", "a1"))
	if err != nil {
		t.Fatal(err)
	}
	defer up.Abort()
	if err := up.WriteAt([]byte("abc"), 1); !errors.Is(err, ErrBadOffset) {
		t.Fatalf("WriteAt at offset 1 of empty upload: %v, want ErrBadOffset", err)
	}
}

func TestCommitNeverOverwrites(t *testing.T) {
	repo, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	first, _ := repo.Create(Key("t1", "a1"))
	second, err := repo.Create(Key("t1", "a1"))
	if err != nil {
		t.Fatal(err)
	}
	first.WriteAt([]byte("one"), 0)
	if _, err := first.Commit(sum([]byte("one"))); err != nil {
		t.Fatal(err)
	}
	second.WriteAt([]byte("two"), 0)
	if _, err := second.Commit(sum([]byte("two"))); !errors.Is(err, ErrExists) {
		t.Fatalf("second Commit error = %v, want ErrExists", err)
	}
	f, _, _ := repo.Open(Key("t1", "a1"))
	defer f.Close()
	stored, _ := io.ReadAll(f)
	if string(stored) != "one" {
		t.Fatalf("stored evidence = %q, want the first upload", stored)
	}
}
