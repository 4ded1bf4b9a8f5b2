package evidence

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Command lines from docs/evidence-format.md. TestDocCommands checks that
// the document still contains them verbatim.
const (
	verifyFilesCommand = `jq -r '.files[] | select(.sha256) | "\(.sha256)  \(.archive_path)"' manifest.json | sha256sum -c`
	verifyLiveCommand  = `jq -r '(.live[], .log) | "\(.sha256)  \(.archive_path)"' manifest.json | sha256sum -c`
	// readManifestCommand stops reading at the first match, which is the
	// first entry of the package.
	readManifestCommand = `tar --zstd --occurrence=1 -xOf evidence-asg-1.tar.zst manifest.json | jq .summary`
)

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: %s is not installed; install it to test packages with standard tools", tool)
		}
	}
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func buildToolPackage(t *testing.T, copyBody bool) *Package {
	t.Helper()
	w, _ := newTestWriterOpts(t, WriterOptions{copyBody: copyBody})
	addBytes(t, w, "/var/log/syslog", bytes.Repeat([]byte("Jan  1 00:00:00 host sshd[1]: accepted\n"), 5000))
	addBytes(t, w, "/home/u1/bad\xffname", []byte("non-UTF-8 name\n"))
	addBytes(t, w, "/home/u1/"+strings.Repeat("\xfe", 200), []byte("long escaped name\n"))
	addBytes(t, w, "/"+strings.Repeat("deep/", 40)+"file", []byte("long path\n"))
	addBytes(t, w, "/home/u1/back\\slash %", []byte("backslash\n"))
	addBytes(t, w, "/home/u1/new\nline", []byte("newline\n"))
	addBytes(t, w, "/empty", nil)
	if err := w.AddLive("processes", func(out io.Writer) error {
		_, err := out.Write([]byte("{\"pid\":1}\n"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	w.Logf("done")
	pkg, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

func TestGNUTarListsManifestFirst(t *testing.T) {
	requireTools(t, "tar", "zstd")
	pkg := buildToolPackage(t, false)

	out := run(t, t.TempDir(), "tar", "--zstd", "-tvf", pkg.Path)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasSuffix(lines[0], " "+ManifestName) {
		t.Errorf("first entry listed by tar = %q, want %s", lines[0], ManifestName)
	}
	// Manifest, seven files, one live entry and the log.
	if len(lines) != 10 {
		t.Errorf("tar lists %d entries, want 10:\n%s", len(lines), out)
	}
}

func TestGNUTarExtractAndSHA256Sum(t *testing.T) {
	requireTools(t, "tar", "zstd", "jq", "sha256sum", "sh")
	for _, copyBody := range []bool{false, true} {
		t.Run(fmt.Sprintf("copyBody=%v", copyBody), func(t *testing.T) {
			testGNUTarExtract(t, buildToolPackage(t, copyBody))
		})
	}
}

func testGNUTarExtract(t *testing.T, pkg *Package) {
	dir := t.TempDir()

	sidecar := run(t, dir, "sha256sum", pkg.Path)
	if got := strings.Fields(sidecar)[0]; got != pkg.SHA256 {
		t.Errorf("sha256sum of the package = %s, writer returned %s", got, pkg.SHA256)
	}

	run(t, dir, "tar", "--zstd", "-xf", pkg.Path)
	out := run(t, dir, "sh", "-c", verifyFilesCommand)
	if n := strings.Count(out, ": OK\n"); n != 7 {
		t.Errorf("sha256sum -c confirmed %d files, want 7:\n%s", n, out)
	}
	out = run(t, dir, "sh", "-c", verifyLiveCommand)
	if n := strings.Count(out, ": OK\n"); n != 2 {
		t.Errorf("sha256sum -c confirmed %d live and log entries, want 2:\n%s", n, out)
	}

	manifest, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatalf("manifest.json not extracted: %v", err)
	}
	if !bytes.Contains(manifest, []byte(`"path_raw_base64"`)) {
		t.Error("extracted manifest has no path_raw_base64 for the non-UTF-8 name")
	}
}

func TestGNUTarReadsManifestOnly(t *testing.T) {
	requireTools(t, "tar", "zstd", "jq", "sh")
	pkg := buildToolPackage(t, false)

	out := run(t, t.TempDir(), "sh", "-c", strings.ReplaceAll(readManifestCommand, "evidence-asg-1.tar.zst", pkg.Path))
	if !strings.Contains(out, `"files_collected": 7`) {
		t.Errorf("summary printed by jq = %s, want files_collected 7", out)
	}
}

func TestDocCommands(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "evidence-format.md"))
	if err != nil {
		t.Fatalf("read format document: %v", err)
	}
	for _, cmd := range []string{verifyFilesCommand, verifyLiveCommand, readManifestCommand} {
		if !bytes.Contains(doc, []byte(cmd)) {
			t.Errorf("docs/evidence-format.md does not contain the tested command:\n%s", cmd)
		}
	}
}
