package files

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/magpie-ir/magpie/internal/evidence"
)

// fixture is a collection root built in a temporary directory.
type fixture struct {
	t    *testing.T
	root string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, root: root}
}

// host returns the host path of the inside path p.
func (f *fixture) host(p string) string {
	return filepath.Join(f.root, filepath.FromSlash(p))
}

func (f *fixture) file(p, content string) {
	f.t.Helper()
	h := f.host(p)
	if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(h, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) mkdir(p string) {
	f.t.Helper()
	if err := os.MkdirAll(f.host(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) symlink(p, target string) {
	f.t.Helper()
	h := f.host(p)
	if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Symlink(target, h); err != nil {
		f.t.Fatal(err)
	}
}

// collectPackage runs the collector into a new package and returns it
// closed.
func collectPackage(t *testing.T, opts Options, hooks testHooks) *evidence.Package {
	t.Helper()
	w, err := evidence.NewWriter(evidence.WriterOptions{
		SpoolDir: t.TempDir(),
		Header:   evidence.Header{TaskID: "t1", AssignmentID: "a1", Root: opts.Root},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Abort)

	if err := collect(context.Background(), opts, w, hooks); err != nil {
		t.Fatalf("collect: %v", err)
	}
	pkg, err := w.Close()
	if err != nil {
		t.Fatalf("close package: %v", err)
	}
	return pkg
}

// entryMap returns the manifest's file entries by path, failing the test
// when a path appears twice.
func entryMap(t *testing.T, m *evidence.Manifest) map[string]evidence.FileEntry {
	t.Helper()
	out := make(map[string]evidence.FileEntry)
	for _, e := range m.Files {
		if _, dup := out[e.Path]; dup {
			t.Errorf("path %q recorded more than once", e.Path)
		}
		out[e.Path] = e
	}
	return out
}

func mustEntry(t *testing.T, entries map[string]evidence.FileEntry, path string) evidence.FileEntry {
	t.Helper()
	e, ok := entries[path]
	if !ok {
		var paths []string
		for p := range entries {
			paths = append(paths, p)
		}
		t.Fatalf("no entry for %q; entries: %q", path, paths)
	}
	return e
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// archived returns the content of every tar entry in the package.
func archived(t *testing.T, pkg *evidence.Package) map[string][]byte {
	t.Helper()
	f, err := os.Open(pkg.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()

	out := make(map[string][]byte)
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[hdr.Name] = data
	}
}

// verifyPackage checks the package with VerifyFile and, where GNU tar, zstd,
// jq and sha256sum are installed, with those tools alone.
func verifyPackage(t *testing.T, pkg *evidence.Package) {
	t.Helper()
	report, err := evidence.VerifyFile(pkg.Path)
	if err != nil {
		t.Fatalf("VerifyFile: %v", err)
	}
	if !report.OK() {
		t.Errorf("VerifyFile problems: %q", report.Problems)
	}

	for _, tool := range []string{"tar", "zstd", "jq", "sha256sum", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Logf("skipping the GNU tar check: %s is not installed", tool)
			return
		}
	}
	dir := t.TempDir()
	script := `tar --zstd -xf "$1" && ` +
		`jq -r '.files[] | select(.sha256) | "\(.sha256)  \(.archive_path)"' manifest.json | sha256sum -c --strict && ` +
		`jq -r '(.live[], .log) | "\(.sha256)  \(.archive_path)"' manifest.json | sha256sum -c --strict`
	cmd := exec.Command("sh", "-c", script, "sh", pkg.Path)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("GNU tar and sha256sum check failed: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "FAILED") {
		t.Errorf("sha256sum reported failures:\n%s", out.String())
	}
}
