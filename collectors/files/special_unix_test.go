//go:build unix

package files

import (
	"net"
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
