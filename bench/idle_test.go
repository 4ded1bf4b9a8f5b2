package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// buildHello builds a tiny program with the given -ldflags and returns its
// path.
func buildHello(t *testing.T, ldflags string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "hello")
	args := []string{"build", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func TestReadBinaryStripped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs")
	}
	if runtime.GOOS != "linux" {
		t.Skip("checks ELF sections")
	}

	stripped, err := readBinary(buildHello(t, "-s -w"))
	if err != nil {
		t.Fatal(err)
	}
	if stripped.HasSymtab || stripped.HasDWARF {
		t.Errorf("binary built with -s -w: HasSymtab=%v HasDWARF=%v, want false false", stripped.HasSymtab, stripped.HasDWARF)
	}
	if stripped.Size <= 0 {
		t.Errorf("size = %d, want > 0", stripped.Size)
	}

	full, err := readBinary(buildHello(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if !full.HasSymtab || !full.HasDWARF {
		t.Errorf("binary built without -ldflags: HasSymtab=%v HasDWARF=%v, want true true", full.HasSymtab, full.HasDWARF)
	}
	if full.Size <= stripped.Size {
		t.Errorf("unstripped size %d <= stripped size %d", full.Size, stripped.Size)
	}
}

func TestReadBinaryMissing(t *testing.T) {
	if _, err := readBinary(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("readBinary of a missing file returned no error")
	}
}
