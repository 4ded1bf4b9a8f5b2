//go:build unix

package files

import (
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/magpie-ir/magpie/internal/evidence"
)

func TestCollectSpecialFiles(t *testing.T) {
	f := newFixture(t)
	f.file("/run/regular", "data")
	f.mkdir("/run")
	if err := unix.Mkfifo(f.host("/run/pipe"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", f.host("/run/sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	haveDevice := unix.Mknod(f.host("/run/null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))) == nil
	// A symlink to the FIFO must not make the collector open it either.
	f.symlink("/run/pipe-link", "/run/pipe")

	done := make(chan *evidence.Package, 1)
	go func() {
		done <- collectPackage(t, Options{Root: f.root, Patterns: []string{"/run/*"}}, testHooks{})
	}()
	var pkg *evidence.Package
	select {
	case pkg = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("collection did not finish within 30s: it blocked on a special file")
	}
	entries := entryMap(t, pkg.Manifest)

	pipe := mustEntry(t, entries, "/run/pipe")
	if pipe.Type != evidence.TypeFIFO || pipe.Skipped != "fifo not collected" || pipe.ArchivePath != "" {
		t.Errorf("fifo entry = %+v", pipe)
	}
	sock := mustEntry(t, entries, "/run/sock")
	if sock.Type != evidence.TypeSocket || sock.Skipped != "socket not collected" {
		t.Errorf("socket entry = %+v", sock)
	}
	if haveDevice {
		dev := mustEntry(t, entries, "/run/null")
		if dev.Type != evidence.TypeCharDevice || dev.Skipped != "char_device not collected" || dev.Mode[0] != 'c' {
			t.Errorf("device entry = %+v", dev)
		}
	} else {
		t.Log("mknod is not permitted here, so the device case was not run")
	}
	link := mustEntry(t, entries, "/run/pipe-link")
	if link.Type != evidence.TypeSymlink || link.LinkResolved != "/run/pipe" {
		t.Errorf("link entry = %+v", link)
	}
	if regular := mustEntry(t, entries, "/run/regular"); regular.ArchivePath == "" {
		t.Error("regular file next to special files was not collected")
	}
	if pkg.Manifest.Summary.FilesSkipped < 2 {
		t.Errorf("summary = %+v, want the special files counted as skipped", pkg.Manifest.Summary)
	}
	verifyPackage(t, pkg)
}

// TestCollectPathTooLong builds a tree deeper than PATH_MAX (4096 bytes on
// Linux) with directory-relative calls, which no path-based call can reach.
func TestCollectPathTooLong(t *testing.T) {
	f := newFixture(t)
	f.mkdir("/long")
	fd, err := unix.Open(f.host("/long"), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("n", 250)
	for range 20 {
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	file, err := unix.Openat(fd, "deepest", unix.O_WRONLY|unix.O_CREAT, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(file)
	unix.Close(fd)
	f.file("/long/short", "reachable")

	pkg := collectPackage(t, Options{Root: f.root, Patterns: []string{"/long/**"}}, testHooks{})
	var tooLong int
	for _, e := range pkg.Manifest.Files {
		if strings.HasSuffix(e.Error, "file name too long") {
			tooLong++
		}
	}
	if tooLong == 0 {
		t.Error("no entry records the path that was too long")
	}
	mustEntry(t, entryMap(t, pkg.Manifest), "/long/short")
	verifyPackage(t, pkg)
}
