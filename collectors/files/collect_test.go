package files

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/magpie-ir/magpie/internal/evidence"
)

func TestCollectBasic(t *testing.T) {
	f := newFixture(t)
	f.file("/etc/passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n")
	f.file("/etc/group", "root:x:0:\nstaff:x:1000:\n")
	f.file("/home/alice/.bash_history", "ls\nwhoami\n")
	f.file("/home/bob/.bash_history", "id\n")
	f.file("/home/bob/notes.txt", "not matched\n")
	f.file("/var/log/auth.log", "sshd accepted\n")
	f.file("/var/log/nested/deep/app.log", "deep\n")

	pkg := collectPackage(t, Options{
		Root:     f.root,
		Patterns: []string{"/home/*/.bash_history", "/var/log/**/*.log", "/etc/passwd", "/does/not/exist"},
	}, testHooks{})
	entries := entryMap(t, pkg.Manifest)

	hist := mustEntry(t, entries, "/home/alice/.bash_history")
	if hist.ArchivePath != "files/home/alice/.bash_history" {
		t.Errorf("archive path = %q", hist.ArchivePath)
	}
	if hist.SHA256 != sha256Hex("ls\nwhoami\n") {
		t.Errorf("sha256 = %s, want hash of the file content", hist.SHA256)
	}
	if hist.Type != evidence.TypeFile || hist.Mode != "-rw-r--r--" || hist.ModeOctal != "0644" {
		t.Errorf("type and mode = %s %s %s", hist.Type, hist.Mode, hist.ModeOctal)
	}
	if hist.Mtime.IsZero() || hist.Mtime.Location().String() != "UTC" {
		t.Errorf("mtime = %v, want a UTC time", hist.Mtime)
	}
	mustEntry(t, entries, "/home/bob/.bash_history")
	mustEntry(t, entries, "/var/log/auth.log")
	mustEntry(t, entries, "/var/log/nested/deep/app.log")
	mustEntry(t, entries, "/etc/passwd")
	if _, ok := entries["/home/bob/notes.txt"]; ok {
		t.Error("unmatched /home/bob/notes.txt was collected")
	}
	if len(entries) != 5 {
		t.Errorf("recorded %d entries, want 5", len(entries))
	}

	content := archived(t, pkg)
	if got := string(content["files/home/bob/.bash_history"]); got != "id\n" {
		t.Errorf("archived content = %q, want %q", got, "id\n")
	}
	if pkg.Manifest.Summary.FilesCollected != 5 {
		t.Errorf("summary = %+v, want 5 files collected", pkg.Manifest.Summary)
	}
	verifyPackage(t, pkg)
}

func TestCollectOwnerFromRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: changing file owners needs root")
	}
	f := newFixture(t)
	// The ids are chosen so that the host's own account database is
	// unlikely to name them: names must come from the fixture.
	f.file("/etc/passwd", "evidence-user:x:43210:43211::/home/u:/bin/sh\n")
	f.file("/etc/group", "evidence-group:x:43211:\n")
	f.file("/home/u/file", "x")
	if err := os.Lchown(f.host("/home/u/file"), 43210, 43211); err != nil {
		t.Fatal(err)
	}

	pkg := collectPackage(t, Options{Root: f.root, Patterns: []string{"/home/u/file"}}, testHooks{})
	e := mustEntry(t, entryMap(t, pkg.Manifest), "/home/u/file")
	if e.UID == nil || *e.UID != 43210 || e.GID == nil || *e.GID != 43211 {
		t.Errorf("uid/gid = %v/%v, want 43210/43211", e.UID, e.GID)
	}
	if e.Owner != "evidence-user" || e.Group != "evidence-group" {
		t.Errorf("owner/group = %q/%q, want names from the root's /etc files", e.Owner, e.Group)
	}
}

func TestCollectSymlinkLoops(t *testing.T) {
	f := newFixture(t)
	f.file("/a/file", "content")
	f.symlink("/a/self", "/a")      // absolute, resolved inside the root
	f.symlink("/a/sub/up", "../..") // relative, back to the root
	f.symlink("/a/l1", "l2")        // file symlink loop
	f.symlink("/a/l2", "l1")

	pkg := collectPackage(t, Options{Root: f.root, Patterns: []string{"/a/**"}}, testHooks{})
	entries := entryMap(t, pkg.Manifest)

	mustEntry(t, entries, "/a/file")
	self := mustEntry(t, entries, "/a/self")
	if self.Type != evidence.TypeSymlink || self.LinkTarget != "/a" || self.LinkResolved != "/a" {
		t.Errorf("self entry = %+v", self)
	}
	if !self.HasFlag(evidence.FlagSymlinkLoop) {
		t.Errorf("self flags = %q, want %s", self.Flags, evidence.FlagSymlinkLoop)
	}
	up := mustEntry(t, entries, "/a/sub/up")
	if !up.HasFlag(evidence.FlagSymlinkLoop) || up.LinkResolved != "/" {
		t.Errorf("up entry = %+v, want a loop to /", up)
	}
	l1 := mustEntry(t, entries, "/a/l1")
	if l1.Error != "resolve symlink: too many levels of symbolic links" {
		t.Errorf("l1 error = %q, want ELOOP", l1.Error)
	}
	verifyPackage(t, pkg)
}

func TestCollectLoopNotMatched(t *testing.T) {
	f := newFixture(t)
	f.file("/a/x.log", "x")
	f.symlink("/a/self", "/a")

	pkg := collectPackage(t, Options{Root: f.root, Patterns: []string{"/a/**/*.log"}}, testHooks{})
	entries := entryMap(t, pkg.Manifest)
	mustEntry(t, entries, "/a/x.log")
	self := mustEntry(t, entries, "/a/self")
	if !self.HasFlag(evidence.FlagSymlinkLoop) {
		t.Errorf("loop symlink flags = %q, want %s", self.Flags, evidence.FlagSymlinkLoop)
	}
	if len(entries) != 2 {
		t.Errorf("recorded %d entries, want the log file and the loop", len(entries))
	}
}

func TestCollectAbsoluteSymlinkInsideRoot(t *testing.T) {
	f := newFixture(t)
	f.file("/usr/share/zoneinfo/UTC", "fixture zone\n")
	f.symlink("/etc/localtime", "/usr/share/zoneinfo/UTC")
	f.file("/etc/passwd", "fixture passwd\n")
	f.symlink("/home/u/escape", "../../../../../../etc/passwd")
	f.symlink("/home/u/dangling", "/nowhere/at/all")

	pkg := collectPackage(t, Options{
		Root:     f.root,
		Patterns: []string{"/etc/localtime", "/home/u/*"},
	}, testHooks{})
	entries := entryMap(t, pkg.Manifest)
	content := archived(t, pkg)

	link := mustEntry(t, entries, "/etc/localtime")
	if link.Type != evidence.TypeSymlink || link.LinkResolved != "/usr/share/zoneinfo/UTC" || link.ArchivePath != "" {
		t.Errorf("symlink entry = %+v", link)
	}
	zone := mustEntry(t, entries, "/usr/share/zoneinfo/UTC")
	if zone.MatchedAs != "/etc/localtime" {
		t.Errorf("target matched_as = %q, want /etc/localtime", zone.MatchedAs)
	}
	if got := string(content[zone.ArchivePath]); got != "fixture zone\n" {
		t.Errorf("target content = %q, want the fixture's file, not the host's", got)
	}

	escape := mustEntry(t, entries, "/home/u/escape")
	if escape.LinkResolved != "/etc/passwd" {
		t.Errorf("escape resolved to %q, want /etc/passwd inside the root", escape.LinkResolved)
	}
	passwd := mustEntry(t, entries, "/etc/passwd")
	if got := string(content[passwd.ArchivePath]); got != "fixture passwd\n" {
		t.Errorf("passwd content = %q, want the fixture's", got)
	}

	dangling := mustEntry(t, entries, "/home/u/dangling")
	if !dangling.HasFlag(evidence.FlagDanglingSymlink) || dangling.LinkResolved != "/nowhere/at/all" {
		t.Errorf("dangling entry = %+v", dangling)
	}
	verifyPackage(t, pkg)
}

func TestCollectDedupe(t *testing.T) {
	f := newFixture(t)
	f.file("/var/log/syslog.log", "one\n")
	f.file("/var/log/kern.log", "two\n")
	f.symlink("/logs", "/var/log")

	pkg := collectPackage(t, Options{
		Root: f.root,
		Patterns: []string{
			"/var/log/*.log",
			"/var/log/**",
			"/var/log/syslog.log",
			"/logs/*.log",
			"/{var/log,logs}/kern.log",
		},
	}, testHooks{})
	entries := entryMap(t, pkg.Manifest)

	var files int
	for _, e := range pkg.Manifest.Files {
		if e.Type == evidence.TypeFile {
			files++
		}
	}
	if files != 2 {
		t.Errorf("collected %d files, want 2", files)
	}
	mustEntry(t, entries, "/var/log/syslog.log")
	mustEntry(t, entries, "/var/log")
	verifyPackage(t, pkg)
}

func TestCollectThroughSymlinkedDir(t *testing.T) {
	f := newFixture(t)
	f.file("/data/u2/.bash_history", "history\n")
	f.symlink("/home/u2", "/data/u2")

	pkg := collectPackage(t, Options{Root: f.root, Patterns: []string{"/home/*/.bash_history"}}, testHooks{})
	e := mustEntry(t, entryMap(t, pkg.Manifest), "/data/u2/.bash_history")
	if e.MatchedAs != "/home/u2/.bash_history" {
		t.Errorf("matched_as = %q, want /home/u2/.bash_history", e.MatchedAs)
	}
}

func TestCollectGrowingFile(t *testing.T) {
	f := newFixture(t)
	f.file("/var/log/app.log", "0123456789")

	hooks := testHooks{afterStat: func(path string, _ *os.File) {
		// Another process appends after the collector read the size.
		out, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer out.Close()
		out.WriteString("appended")
	}}
	pkg := collectPackage(t, Options{Root: f.root, Patterns: []string{"/var/log/app.log"}}, hooks)
	e := mustEntry(t, entryMap(t, pkg.Manifest), "/var/log/app.log")

	if !e.HasFlag(evidence.FlagGrew) {
		t.Errorf("flags = %q, want %s", e.Flags, evidence.FlagGrew)
	}
	if e.Size != 10 {
		t.Errorf("size = %d, want the 10 bytes seen at open", e.Size)
	}
	if e.SizeAtEnd == nil || *e.SizeAtEnd != 18 {
		t.Errorf("size_at_end = %v, want 18", e.SizeAtEnd)
	}
	if got := string(archived(t, pkg)[e.ArchivePath]); got != "0123456789" {
		t.Errorf("archived content = %q, want the first 10 bytes", got)
	}
	verifyPackage(t, pkg)
}

func TestCollectShrinkingFile(t *testing.T) {
	f := newFixture(t)
	f.file("/var/log/app.log", "0123456789")

	hooks := testHooks{afterStat: func(path string, _ *os.File) {
		if err := os.Truncate(path, 4); err != nil {
			t.Error(err)
		}
	}}
	pkg := collectPackage(t, Options{Root: f.root, Patterns: []string{"/var/log/app.log"}}, hooks)
	e := mustEntry(t, entryMap(t, pkg.Manifest), "/var/log/app.log")

	if !e.HasFlag(evidence.FlagShrank) {
		t.Errorf("flags = %q, want %s", e.Flags, evidence.FlagShrank)
	}
	if got := string(archived(t, pkg)[e.ArchivePath]); got != "0123\x00\x00\x00\x00\x00\x00" {
		t.Errorf("archived content = %q, want 4 bytes and zero padding", got)
	}
	verifyPackage(t, pkg)
}

func TestCollectUnreadableFile(t *testing.T) {
	f := newFixture(t)
	f.file("/etc/shadow", "secret")
	f.file("/etc/hosts", "127.0.0.1 localhost\n")

	// Root bypasses permission bits, so the test makes open fail the way
	// it fails for an unprivileged responder.
	hooks := testHooks{open: func(path string) (*os.File, error) {
		if strings.HasSuffix(path, "shadow") {
			return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES}
		}
		return openFile(path)
	}}
	pkg := collectPackage(t, Options{Root: f.root, Patterns: []string{"/etc/*"}}, hooks)
	entries := entryMap(t, pkg.Manifest)

	shadow := mustEntry(t, entries, "/etc/shadow")
	if shadow.Error != "open: permission denied" || shadow.ArchivePath != "" {
		t.Errorf("shadow entry = %+v, want an open error and no content", shadow)
	}
	if hosts := mustEntry(t, entries, "/etc/hosts"); hosts.ArchivePath == "" {
		t.Error("collection stopped after the unreadable file")
	}
	if pkg.Manifest.Summary.FilesFailed != 1 {
		t.Errorf("summary = %+v, want one failed file", pkg.Manifest.Summary)
	}
	verifyPackage(t, pkg)
}

func TestCollectPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("skipping: root reads files whatever their mode; TestCollectUnreadableFile covers the failure")
	}
	f := newFixture(t)
	f.file("/etc/shadow", "secret")
	if err := os.Chmod(f.host("/etc/shadow"), 0); err != nil {
		t.Fatal(err)
	}
	pkg := collectPackage(t, Options{Root: f.root, Patterns: []string{"/etc/shadow"}}, testHooks{})
	if e := mustEntry(t, entryMap(t, pkg.Manifest), "/etc/shadow"); e.Error != "open: permission denied" {
		t.Errorf("error = %q, want open: permission denied", e.Error)
	}
}

func TestCollectNonUTF8AndLongNames(t *testing.T) {
	f := newFixture(t)
	f.file("/home/u/bad\xffname", "non-UTF-8\n")
	long := strings.Repeat("\xfe", 200) // 600 bytes once escaped
	f.file("/home/u/"+long, "long\n")
	deep := "/" + strings.Repeat("d/", 60) + "file"
	f.file(deep, "deep\n")

	pkg := collectPackage(t, Options{Root: f.root, Patterns: []string{"/home/u/*", "/d/**"}}, testHooks{})
	entries := entryMap(t, pkg.Manifest)

	bad := mustEntry(t, entries, `/home/u/bad\xffname`)
	if bad.ArchivePath != "files/home/u/bad%FFname" || bad.PathRawBase64 == "" {
		t.Errorf("non-UTF-8 entry = %+v", bad)
	}
	display, _ := evidence.DisplayPath("/home/u/" + long)
	longEntry := mustEntry(t, entries, display)
	last := longEntry.ArchivePath[strings.LastIndexByte(longEntry.ArchivePath, '/')+1:]
	if len(last) > 255 || !strings.Contains(last, "~") {
		t.Errorf("long component = %q (%d bytes), want a shortened name of at most 255 bytes", last, len(last))
	}
	mustEntry(t, entries, deep)
	verifyPackage(t, pkg)
}

func TestCollectDeterministicOrder(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"c", "a", "b", "B", "a.d/x"} {
		f.file("/data/"+name, name)
	}
	paths := func() []string {
		pkg := collectPackage(t, Options{Root: f.root, Patterns: []string{"/data/**"}}, testHooks{})
		var out []string
		for _, e := range pkg.Manifest.Files {
			out = append(out, e.Path)
		}
		return out
	}
	first, second := paths(), paths()
	if !slices.Equal(first, second) {
		t.Errorf("two runs recorded %q and %q", first, second)
	}
	want := []string{"/data", "/data/B", "/data/a", "/data/a.d", "/data/a.d/x", "/data/b", "/data/c"}
	if !slices.Equal(first, want) {
		t.Errorf("order = %q, want %q", first, want)
	}
}

func TestCollectProgress(t *testing.T) {
	f := newFixture(t)
	f.file("/a", "12345")
	f.file("/b", "678")

	var lastFiles, lastBytes int64
	opts := Options{
		Root:     f.root,
		Patterns: []string{"/a", "/b"},
		Progress: func(files, bytes int64) { lastFiles, lastBytes = files, bytes },
	}
	collectPackage(t, opts, testHooks{})
	if lastFiles != 2 || lastBytes != 8 {
		t.Errorf("last progress = %d files, %d bytes; want 2 and 8", lastFiles, lastBytes)
	}
}

func TestCollectCanceled(t *testing.T) {
	f := newFixture(t)
	f.file("/a", "x")
	w, err := evidence.NewWriter(evidence.WriterOptions{SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = Collect(ctx, Options{Root: f.root, Patterns: []string{"/**"}}, w)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Collect error = %v, want context.Canceled", err)
	}
}

func TestCollectCanceledDuringRead(t *testing.T) {
	f := newFixture(t)
	f.file("/big", strings.Repeat("x", 3<<20))
	w, err := evidence.NewWriter(evidence.WriterOptions{SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()

	ctx, cancel := context.WithCancel(context.Background())
	hooks := testHooks{afterStat: func(string, *os.File) { cancel() }}
	err = collect(ctx, Options{Root: f.root, Patterns: []string{"/big"}}, w, hooks)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("collect error = %v, want context.Canceled", err)
	}
}

func TestCollectInvalidOptions(t *testing.T) {
	w, err := evidence.NewWriter(evidence.WriterOptions{SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()

	err = Collect(context.Background(), Options{Root: t.TempDir(), Patterns: []string{"relative/*"}}, w)
	if !errors.Is(err, ErrInvalidPattern) {
		t.Errorf("Collect with a relative pattern = %v, want ErrInvalidPattern", err)
	}
	err = Collect(context.Background(), Options{Root: "/does/not/exist", Patterns: []string{"/a"}}, w)
	if err == nil {
		t.Error("Collect with a missing root succeeded")
	}
}

func TestCollectUnlistableDir(t *testing.T) {
	f := newFixture(t)
	f.file("/home/locked/secret", "x")
	f.file("/home/open/file", "y")

	hooks := testHooks{open: func(path string) (*os.File, error) {
		if strings.HasSuffix(path, "locked") {
			return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES}
		}
		return openFile(path)
	}}
	pkg := collectPackage(t, Options{Root: f.root, Patterns: []string{"/home/**/*"}}, hooks)
	entries := entryMap(t, pkg.Manifest)

	locked := mustEntry(t, entries, "/home/locked")
	if locked.Type != evidence.TypeDir || locked.Error != "readdir: permission denied" {
		t.Errorf("locked entry = %+v, want a directory with a readdir error", locked)
	}
	mustEntry(t, entries, "/home/open/file")
	verifyPackage(t, pkg)
}
