package files

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/magpie-ir/magpie/internal/evidence"
)

func TestCollectProcFile(t *testing.T) {
	pkg := collectPackage(t, Options{Root: "/", Patterns: []string{"/proc/self/status"}}, testHooks{})
	entries := entryMap(t, pkg.Manifest)

	// /proc/self is a symlink to the collecting process's own directory,
	// so the file is recorded under its real path.
	status := mustEntry(t, entries, "/proc/"+strconv.Itoa(os.Getpid())+"/status")
	if status.MatchedAs != "/proc/self/status" {
		t.Errorf("matched_as = %q, want /proc/self/status", status.MatchedAs)
	}
	if !status.HasFlag(evidence.FlagSizeZeroReadToEOF) {
		t.Errorf("flags = %q, want %s", status.Flags, evidence.FlagSizeZeroReadToEOF)
	}
	content := string(archived(t, pkg)[status.ArchivePath])
	if !strings.HasPrefix(content, "Name:") || int64(len(content)) != status.Size {
		t.Errorf("archived %d bytes starting %.20q; want the status file of size %d", len(content), content, status.Size)
	}
	verifyPackage(t, pkg)
}

func TestCollectProcFileCap(t *testing.T) {
	pkg := collectPackage(t, Options{
		Root:               "/",
		Patterns:           []string{"/proc/self/status"},
		MaxVirtualFileSize: 16,
	}, testHooks{})
	status := mustEntry(t, entryMap(t, pkg.Manifest), "/proc/"+strconv.Itoa(os.Getpid())+"/status")
	if !status.HasFlag(evidence.FlagTruncatedAtCap) || status.Size != 16 {
		t.Errorf("entry = %+v, want 16 bytes flagged %s", status, evidence.FlagTruncatedAtCap)
	}
}

func TestCollectSysfsAttribute(t *testing.T) {
	const path = "/sys/kernel/uevent_seqnum"
	fi, err := os.Stat(path)
	if err != nil || fi.Size() == 0 {
		t.Skipf("skipping: %s with a non-zero stat size is not available here", path)
	}

	pkg := collectPackage(t, Options{Root: "/", Patterns: []string{path}}, testHooks{})
	e := mustEntry(t, entryMap(t, pkg.Manifest), path)
	if !e.HasFlag(evidence.FlagPseudoFSReadToEOF) {
		t.Errorf("flags = %q, want %s", e.Flags, evidence.FlagPseudoFSReadToEOF)
	}
	if e.HasFlag(evidence.FlagShrank) {
		t.Errorf("flags = %q: the attribute was padded to its stat size", e.Flags)
	}
	content := archived(t, pkg)[e.ArchivePath]
	if len(content) == 0 || len(content) >= int(fi.Size()) || content[len(content)-1] != '\n' {
		t.Errorf("archived %q, want the short attribute text", content)
	}
}
