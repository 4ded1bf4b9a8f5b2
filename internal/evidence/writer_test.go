package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testHeader() Header {
	return Header{
		TaskID:       "task-1",
		AssignmentID: "asg-1",
		Trigger:      "manual",
		Profile:      "triage",
		Root:         "/",
		Responder: ResponderIdentity{
			ID: "r1", Hostname: "web01", FQDN: "web01.example.test", OS: "linux",
			Arch: "amd64", Version: "dev", IPs: []string{"192.0.2.10"},
		},
		Started: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
	}
}

func newTestWriter(t *testing.T) (*Writer, string) {
	t.Helper()
	return newTestWriterOpts(t, WriterOptions{})
}

func newTestWriterOpts(t *testing.T, opts WriterOptions) (*Writer, string) {
	t.Helper()
	dir := t.TempDir()
	opts.SpoolDir = dir
	opts.Header = testHeader()
	w, err := NewWriter(opts)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	t.Cleanup(w.Abort)
	return w, dir
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func addBytes(t *testing.T, w *Writer, path string, content []byte) FileEntry {
	t.Helper()
	e := FileEntry{Type: TypeFile, Mode: "-rw-r--r--", ModeOctal: "0644"}
	e.SetPath(path)
	got, err := w.AddFile(e, bytes.NewReader(content), int64(len(content)))
	if err != nil {
		t.Fatalf("AddFile(%q): %v", path, err)
	}
	return got
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriterRoundTrip(t *testing.T) {
	for _, copyBody := range []bool{false, true} {
		t.Run(fmt.Sprintf("copyBody=%v", copyBody), func(t *testing.T) {
			testWriterRoundTrip(t, copyBody)
		})
	}
}

func testWriterRoundTrip(t *testing.T, copyBody bool) {
	w, dir := newTestWriterOpts(t, WriterOptions{copyBody: copyBody})

	text := []byte("line one\nline two\n")
	got := addBytes(t, w, "/var/log/syslog", text)
	if got.ArchivePath != "files/var/log/syslog" {
		t.Errorf("archive path = %q, want files/var/log/syslog", got.ArchivePath)
	}
	if got.SHA256 != sha256Hex(text) {
		t.Errorf("sha256 = %s, want %s", got.SHA256, sha256Hex(text))
	}
	addBytes(t, w, "/empty", nil)
	addBytes(t, w, "/tmp/bad\xffname", []byte("x"))

	link := FileEntry{Type: TypeSymlink, LinkTarget: "/var/log/syslog"}
	link.SetPath("/var/log/current")
	if err := w.AddEntry(link); err != nil {
		t.Fatalf("AddEntry: %v", err)
	}
	fifo := FileEntry{Type: TypeFIFO, Skipped: "fifo not collected"}
	fifo.SetPath("/run/pipe")
	if err := w.AddEntry(fifo); err != nil {
		t.Fatalf("AddEntry: %v", err)
	}

	err := w.AddLive("processes", func(out io.Writer) error {
		_, err := io.WriteString(out, "{\"pid\":1}\n{\"pid\":2}\n")
		return err
	})
	if err != nil {
		t.Fatalf("AddLive: %v", err)
	}
	w.Logf("collected %d files", 3)

	pkg, err := w.Close()
	if err != nil {
		t.Fatalf("Close: %v", err)
	}

	if reservedGap > 0 && !copyBody && !w.prependedInPlace {
		t.Log("the spool file system cannot collapse ranges, so Close copied the body")
	}
	if copyBody && w.prependedInPlace {
		t.Error("Close prepended in place although copyBody is set")
	}
	if names := dirEntries(t, dir); len(names) != 1 || names[0] != filepath.Base(pkg.Path) {
		t.Errorf("spool directory holds %q, want only the package %s", names, filepath.Base(pkg.Path))
	}
	if pkg.Size > 1<<20 {
		t.Errorf("package has %d bytes, want well under 1 MiB: the reserved gap was not removed", pkg.Size)
	}
	sum, size, err := HashFile(pkg.Path)
	if err != nil {
		t.Fatal(err)
	}
	if sum != pkg.SHA256 {
		t.Errorf("package SHA-256 = %s, file hashes to %s", pkg.SHA256, sum)
	}
	if size != pkg.Size {
		t.Errorf("package size = %d, file has %d bytes", pkg.Size, size)
	}

	report, err := VerifyFile(pkg.Path)
	if err != nil {
		t.Fatalf("VerifyFile: %v", err)
	}
	if !report.OK() {
		t.Errorf("VerifyFile problems: %q", report.Problems)
	}
	// Three files, one live entry and the log.
	if report.EntriesChecked != 5 {
		t.Errorf("EntriesChecked = %d, want 5", report.EntriesChecked)
	}

	m, err := ReadManifest(pkg.Path)
	if err != nil {
		t.Fatalf("ReadManifest: %v", err)
	}
	if diff := cmp.Diff(pkg.Manifest, m); diff != "" {
		t.Errorf("manifest read back differs (-returned +read):\n%s", diff)
	}
	if m.FormatVersion != FormatVersion || m.TaskID != "task-1" || m.Responder.Hostname != "web01" {
		t.Errorf("manifest header = %+v", m)
	}
	wantSummary := Summary{FilesCollected: 3, FilesSkipped: 1, BytesCollected: int64(len(text)) + 1}
	if diff := cmp.Diff(wantSummary, m.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if len(m.Live) != 1 || m.Live[0].Records != 2 || m.Live[0].ArchivePath != "live/processes.jsonl" {
		t.Errorf("live entries = %+v, want one with 2 records", m.Live)
	}
	if m.Log.ArchivePath != LogName || m.Log.Size == 0 {
		t.Errorf("log entry = %+v", m.Log)
	}
	bad := m.Files[2]
	if bad.Path != `/tmp/bad\xffname` || bad.ArchivePath != "files/tmp/bad%FFname" || bad.PathRawBase64 == "" {
		t.Errorf("non-UTF-8 entry = %+v", bad)
	}
}

func TestWriterEmptyPackage(t *testing.T) {
	w, _ := newTestWriter(t)
	pkg, err := w.Close()
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	report, err := VerifyFile(pkg.Path)
	if err != nil {
		t.Fatalf("VerifyFile: %v", err)
	}
	if !report.OK() {
		t.Errorf("problems: %q", report.Problems)
	}
	if report.EntriesChecked != 1 {
		t.Errorf("EntriesChecked = %d, want 1 (the log)", report.EntriesChecked)
	}
}

// shortReader returns n bytes of data and then io.EOF or err.
type shortReader struct {
	data []byte
	err  error
}

func (r *shortReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// sizedReader reports a fixed size from Stat, like a file that changed
// size while it was read.
type sizedReader struct {
	io.Reader
	size int64
}

func (r sizedReader) Stat() (fs.FileInfo, error) { return fakeInfo{size: r.size}, nil }

type fakeInfo struct {
	fs.FileInfo
	size int64
}

func (fi fakeInfo) Size() int64 { return fi.size }

func TestAddFileShrank(t *testing.T) {
	w, _ := newTestWriter(t)
	e := FileEntry{}
	e.SetPath("/shrinking")

	got, err := w.AddFile(e, &shortReader{data: []byte("abc")}, 8)
	if err != nil {
		t.Fatal(err)
	}
	if !got.HasFlag(FlagShrank) {
		t.Errorf("flags = %q, want %s", got.Flags, FlagShrank)
	}
	if got.Size != 8 {
		t.Errorf("size = %d, want the declared 8", got.Size)
	}
	if want := sha256Hex([]byte("abc\x00\x00\x00\x00\x00")); got.SHA256 != want {
		t.Errorf("sha256 = %s, want hash of zero-padded content %s", got.SHA256, want)
	}
}

func TestAddFileReadError(t *testing.T) {
	w, _ := newTestWriter(t)
	e := FileEntry{}
	e.SetPath("/failing")

	got, err := w.AddFile(e, &shortReader{data: []byte("ab"), err: errors.New("input/output error")}, 4)
	if err != nil {
		t.Fatalf("AddFile returned %v, want the read error recorded in the entry", err)
	}
	if got.Error != "read at offset 2: input/output error" {
		t.Errorf("error = %q", got.Error)
	}
	if !got.HasFlag(FlagPaddedAfterReadError) {
		t.Errorf("flags = %q, want %s", got.Flags, FlagPaddedAfterReadError)
	}
	if want := sha256Hex([]byte("ab\x00\x00")); got.SHA256 != want {
		t.Errorf("sha256 = %s, want %s", got.SHA256, want)
	}

	pkg, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if pkg.Manifest.Summary.FilesFailed != 1 || pkg.Manifest.Summary.FilesCollected != 1 {
		t.Errorf("summary = %+v, want one collected and failed file", pkg.Manifest.Summary)
	}
}

func TestAddFileGrew(t *testing.T) {
	w, _ := newTestWriter(t)
	e := FileEntry{}
	e.SetPath("/growing")

	r := sizedReader{Reader: strings.NewReader("0123456789more"), size: 14}
	got, err := w.AddFile(e, r, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !got.HasFlag(FlagGrew) {
		t.Errorf("flags = %q, want %s", got.Flags, FlagGrew)
	}
	if got.SizeAtEnd == nil || *got.SizeAtEnd != 14 {
		t.Errorf("size_at_end = %v, want 14", got.SizeAtEnd)
	}
	if want := sha256Hex([]byte("0123456789")); got.SHA256 != want {
		t.Errorf("sha256 = %s, want hash of the first 10 bytes %s", got.SHA256, want)
	}
}

func TestAddFileCanceled(t *testing.T) {
	w, dir := newTestWriter(t)
	e := FileEntry{}
	e.SetPath("/slow")

	_, err := w.AddFile(e, &shortReader{data: []byte("ab"), err: context.Canceled}, 1<<30)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("AddFile error = %v, want context.Canceled", err)
	}
	if _, err := w.Close(); err == nil {
		t.Error("Close after a canceled AddFile succeeded, want the stored error")
	}
	w.Abort()
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("spool directory holds %q after Abort, want nothing", names)
	}
}

func TestAddLiveFailures(t *testing.T) {
	w, _ := newTestWriter(t)

	err := w.AddLive("netstat", func(out io.Writer) error {
		io.WriteString(out, "{\"a\":1}\n")
		return errors.New("netlink: operation not permitted")
	})
	var ce *CollectorError
	if !errors.As(err, &ce) || ce.Collector != "netstat" {
		t.Fatalf("AddLive error = %v, want a *CollectorError for netstat", err)
	}

	err = w.AddLive("panicky", func(out io.Writer) error {
		panic("boom")
	})
	if !errors.As(err, &ce) || !strings.Contains(ce.Error(), "panic: boom") {
		t.Fatalf("AddLive error = %v, want a *CollectorError with the panic", err)
	}

	if err := w.AddLive("netstat", func(io.Writer) error { return nil }); err == nil {
		t.Error("second AddLive with the same collector succeeded")
	}
	if err := w.AddLive("../escape", func(io.Writer) error { return nil }); err == nil {
		t.Error("AddLive with a path in the collector name succeeded")
	}

	pkg, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	live := pkg.Manifest.Live
	if len(live) != 2 {
		t.Fatalf("live entries = %+v, want 2", live)
	}
	if live[0].Error != "netlink: operation not permitted" || live[0].Records != 1 {
		t.Errorf("netstat entry = %+v", live[0])
	}
	if live[1].Error != "panic: boom" || live[1].Size != 0 {
		t.Errorf("panicky entry = %+v", live[1])
	}
	report, err := VerifyFile(pkg.Path)
	if err != nil || !report.OK() {
		t.Errorf("VerifyFile = %v, %v", report, err)
	}
}

func TestAddLiveMayLog(t *testing.T) {
	w, _ := newTestWriter(t)
	err := w.AddLive("users", func(out io.Writer) error {
		w.Logf("reading users")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if pkg.Manifest.Log.Size == 0 {
		t.Error("log is empty, want the line written from the live collector")
	}
}

func TestArchivePathCollision(t *testing.T) {
	w, _ := newTestWriter(t)
	a := addBytes(t, w, "/tmp/%FF", []byte("valid"))
	b := addBytes(t, w, "/tmp/\xff", []byte("invalid"))
	if a.ArchivePath == b.ArchivePath {
		t.Fatalf("both entries use archive path %q", a.ArchivePath)
	}
	if !strings.HasPrefix(b.ArchivePath, "files/tmp/%FF~") {
		t.Errorf("second archive path = %q, want files/tmp/%%FF~<hash>", b.ArchivePath)
	}
	pkg, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	report, err := VerifyFile(pkg.Path)
	if err != nil || !report.OK() {
		t.Errorf("VerifyFile = %+v, %v", report, err)
	}
}

func TestAbortAfterCloseKeepsPackage(t *testing.T) {
	w, _ := newTestWriter(t)
	addBytes(t, w, "/a", []byte("a"))
	pkg, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if _, err := os.Stat(pkg.Path); err != nil {
		t.Errorf("package missing after Abort: %v", err)
	}
	if _, err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := w.AddEntry(FileEntry{Path: "/b", Type: TypeDir}); !errors.Is(err, ErrClosed) {
		t.Errorf("AddEntry after Close = %v, want ErrClosed", err)
	}
}

func TestAbortRemovesSpool(t *testing.T) {
	w, dir := newTestWriter(t)
	addBytes(t, w, "/a", bytes.Repeat([]byte("a"), 1<<20))
	w.Logf("something")
	w.Abort()
	w.Abort()
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("spool directory holds %q after Abort, want nothing", names)
	}
}

func TestAddEntryValidates(t *testing.T) {
	w, _ := newTestWriter(t)
	tests := []FileEntry{
		{Path: "relative", Type: TypeDir},
		{Path: "/a/../b", Type: TypeDir},
		{Path: "/a"},
	}
	for _, e := range tests {
		if err := w.AddEntry(e); err == nil {
			t.Errorf("AddEntry(%+v) succeeded, want an error", e)
		}
	}
}

func TestNewWriterRequiresSpoolDir(t *testing.T) {
	if _, err := NewWriter(WriterOptions{}); err == nil {
		t.Error("NewWriter without a spool directory succeeded")
	}
}

func TestManyFilesVerify(t *testing.T) {
	w, _ := newTestWriter(t)
	for i := range 200 {
		addBytes(t, w, fmt.Sprintf("/data/f%03d", i), bytes.Repeat([]byte{byte(i)}, i*517))
	}
	pkg, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	report, err := VerifyFile(pkg.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() || report.EntriesChecked != 201 {
		t.Errorf("report: checked %d, problems %q", report.EntriesChecked, report.Problems)
	}
}

func TestAddEntryTimeOutOfRange(t *testing.T) {
	w, _ := newTestWriter(t)
	e := FileEntry{Path: "/future", Type: TypeFile, Mtime: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), Atime: time.Unix(5, 0)}
	if err := w.AddEntry(e); err != nil {
		t.Fatal(err)
	}
	pkg, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(pkg.Path)
	if err != nil {
		t.Fatalf("ReadManifest: %v", err)
	}
	got := m.Files[0]
	if !got.Mtime.IsZero() || !got.HasFlag(FlagTimeOutOfRange) {
		t.Errorf("entry = %+v, want mtime dropped and flagged", got)
	}
	if !got.Atime.Equal(time.Unix(5, 0)) {
		t.Errorf("atime = %v, want the in-range time kept", got.Atime)
	}
}

// countingStatReader counts Stat calls.
type countingStatReader struct {
	io.Reader
	stats int
}

func (r *countingStatReader) Stat() (fs.FileInfo, error) {
	r.stats++
	return fakeInfo{size: 5}, nil
}

func TestAddFileEndSeenSkipsStat(t *testing.T) {
	w, _ := newTestWriter(t)
	e := FileEntry{}
	e.SetPath("/steady")

	r := &countingStatReader{Reader: strings.NewReader("12345")}
	got, err := w.AddFile(e, r, 5)
	if err != nil {
		t.Fatal(err)
	}
	if r.stats != 0 {
		t.Errorf("Stat called %d times, want 0: the short final read showed the end", r.stats)
	}
	if len(got.Flags) != 0 || got.SizeAtEnd != nil {
		t.Errorf("entry = %+v, want no flags", got)
	}
}

func TestWriterCompressionBetter(t *testing.T) {
	w, _ := newTestWriterOpts(t, WriterOptions{Compression: CompressionBetter})
	addBytes(t, w, "/a", bytes.Repeat([]byte("compressible "), 1000))
	pkg, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	report, err := VerifyFile(pkg.Path)
	if err != nil || !report.OK() {
		t.Errorf("VerifyFile = %+v, %v", report, err)
	}
}

func TestNewWriterRejectsUnknownCompression(t *testing.T) {
	_, err := NewWriter(WriterOptions{SpoolDir: t.TempDir(), Compression: Compression(7)})
	if err == nil {
		t.Error("NewWriter with compression 7 succeeded")
	}
}
