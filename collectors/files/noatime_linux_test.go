package files

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func TestCollectKeepsAccessTime(t *testing.T) {
	f := newFixture(t)
	f.file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
	f.file("/home/u1/.bash_history", "id\n")
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range []string{"/etc/passwd", "/home/u1/.bash_history"} {
		if err := os.Chtimes(f.host(p), old, old); err != nil {
			t.Fatal(err)
		}
	}

	pkg := collectPackage(t, Options{Root: f.root, Patterns: []string{"/etc/passwd", "/home/*/.bash_history"}}, testHooks{})
	entries := entryMap(t, pkg.Manifest)

	for _, p := range []string{"/etc/passwd", "/home/u1/.bash_history"} {
		if got := mustEntry(t, entries, p).Atime; !got.Equal(old) {
			t.Errorf("%s: manifest atime = %v, want %v", p, got, old)
		}
		info, err := os.Stat(f.host(p))
		if err != nil {
			t.Fatal(err)
		}
		st := info.Sys().(*syscall.Stat_t)
		if got := time.Unix(st.Atim.Sec, st.Atim.Nsec); !got.Equal(old) {
			t.Errorf("%s: atime after collection = %v, want it unchanged at %v", p, got.UTC(), old)
		}
	}
}
