package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/magpie-ir/magpie/console/apitypes"
)

// addEvidence stores data as the package of as and records its hash and
// size in the returned assignment, as the console does.
func (fc *fakeConsole) addEvidence(as apitypes.Assignment, data []byte) apitypes.Assignment {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.packages[as.ID] = data
	as.Evidence = &apitypes.Evidence{SHA256: sha256Hex(data), Size: int64(len(data))}
	return as
}

// testPackage returns package bytes large enough to take several reads.
func testPackage(seed string) []byte {
	return bytes.Repeat([]byte("magpie evidence "+seed+"\n"), 20000)
}

func assertNoFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("%s exists (Lstat error %v), want it absent", path, err)
	}
}

func assertDownloaded(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read downloaded package: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s holds %d bytes that differ from the %d served", path, len(got), len(want))
	}

	sumFile, err := os.ReadFile(path + ".sha256")
	if err != nil {
		t.Fatalf("read checksum file: %v", err)
	}
	if wantSum := sha256Hex(want) + "  " + filepath.Base(path) + "\n"; string(sumFile) != wantSum {
		t.Errorf("%s.sha256 = %q, want %q", path, sumFile, wantSum)
	}
	assertNoFile(t, path+".partial")
}

func TestEvidenceDownloadSingle(t *testing.T) {
	fc := newFakeConsole(t)
	data := testPackage("ws-01")
	as := fc.addEvidence(testAssignment("A1", "ws-01", "completed"), data)
	fc.addTask(testTask("T1", "completed", as))

	out := filepath.Join(t.TempDir(), "ws-01.tar.zst")
	res := runCLI(t, fc.env(), "evidence", "download", "T1", "-o", out)
	if res.code != exitOK {
		t.Fatalf("exit code = %d; stderr: %s", res.code, res.stderr)
	}
	assertDownloaded(t, out, data)

	info, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("package mode = %v, want no group or other access", perm)
	}

	want := out + "  " + strconv.Itoa(len(data)) + " bytes  sha256 " + sha256Hex(data) + "\n"
	if res.stdout != want {
		t.Errorf("stdout = %q, want %q", res.stdout, want)
	}
}

func TestEvidenceDownloadSeveralIntoDirectory(t *testing.T) {
	fc := newFakeConsole(t)
	data1, data2 := testPackage("ws-01"), testPackage("db-02")
	as1 := fc.addEvidence(testAssignment("A1", "ws-01", "completed"), data1)
	as2 := fc.addEvidence(testAssignment("A2", "db-02", "completed"), data2)
	fc.addTask(testTask("T1", "completed", as1, as2))

	dir := filepath.Join(t.TempDir(), "case-17")
	res := runCLI(t, fc.env(), "evidence", "download", "T1", "-o", dir)
	if res.code != exitOK {
		t.Fatalf("exit code = %d; stderr: %s", res.code, res.stderr)
	}
	assertDownloaded(t, filepath.Join(dir, "ws-01-A1.tar.zst"), data1)
	assertDownloaded(t, filepath.Join(dir, "db-02-A2.tar.zst"), data2)

	if n := strings.Count(res.stdout, "\n"); n != 2 {
		t.Errorf("stdout has %d lines, want one per package:\n%s", n, res.stdout)
	}
}

func TestEvidenceDownloadIntoExistingDirectory(t *testing.T) {
	fc := newFakeConsole(t)
	data := testPackage("ws-01")
	as := fc.addEvidence(testAssignment("A1", "ws-01", "completed"), data)
	fc.addTask(testTask("T1", "completed", as))

	dir := t.TempDir()
	res := runCLI(t, fc.env(), "evidence", "download", "T1", "-o", dir)
	if res.code != exitOK {
		t.Fatalf("exit code = %d; stderr: %s", res.code, res.stderr)
	}
	assertDownloaded(t, filepath.Join(dir, "ws-01-A1.tar.zst"), data)
}

func TestEvidenceDownloadSeveralIntoFile(t *testing.T) {
	fc := newFakeConsole(t)
	as1 := fc.addEvidence(testAssignment("A1", "ws-01", "completed"), testPackage("ws-01"))
	as2 := fc.addEvidence(testAssignment("A2", "db-02", "completed"), testPackage("db-02"))
	fc.addTask(testTask("T1", "completed", as1, as2))

	out := filepath.Join(t.TempDir(), "evidence.tar.zst")
	if err := os.WriteFile(out, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Without --force the existing file is rejected before the task is
	// fetched; with it, the task's package count is what rejects it.
	res := runCLI(t, fc.env(), "evidence", "download", "T1", "-o", out, "--force")
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	if want := "task has 2 evidence packages, so -o must name a directory, but " + out + " is a file"; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", res.stderr, want)
	}
}

func TestEvidenceDownloadPicksResponder(t *testing.T) {
	fc := newFakeConsole(t)
	data1, data2 := testPackage("ws-01"), testPackage("db-02")
	as1 := fc.addEvidence(testAssignment("A1", "ws-01", "completed"), data1)
	as2 := fc.addEvidence(testAssignment("A2", "db-02", "completed"), data2)
	fc.addTask(testTask("T1", "completed", as1, as2))

	for _, responder := range []string{"DB-02", "R-db-02"} {
		t.Run(responder, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "db.tar.zst")
			res := runCLI(t, fc.env(), "evidence", "download", "T1", "-o", out, "--responder", responder)
			if res.code != exitOK {
				t.Fatalf("exit code = %d; stderr: %s", res.code, res.stderr)
			}
			assertDownloaded(t, out, data2)
		})
	}

	res := runCLI(t, fc.env(), "evidence", "download", "T1", "-o", filepath.Join(t.TempDir(), "x"), "--responder", "mail-09")
	if res.code != exitFailure || !strings.Contains(res.stderr, `no assignment for responder "mail-09"`) {
		t.Errorf("unknown responder: exit code = %d, stderr = %q", res.code, res.stderr)
	}
}

func TestEvidenceDownloadHashMismatch(t *testing.T) {
	data := testPackage("ws-01")
	realSum := sha256Hex(data)
	wrongSum := strings.Repeat("0", 64)

	tests := []struct {
		name       string
		headerSum  string // "" sends the real hash
		recordSum  string // "" records the real hash
		wantStderr string
	}{
		{"header differs", wrongSum, "", "X-Magpie-Sha256 header " + wrongSum},
		{"task record differs", "", wrongSum, "task record " + wrongSum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := newFakeConsole(t)
			as := fc.addEvidence(testAssignment("A1", "ws-01", "completed"), data)
			if tt.headerSum != "" {
				fc.headerSHA["A1"] = tt.headerSum
			}
			if tt.recordSum != "" {
				as.Evidence.SHA256 = tt.recordSum
			}
			fc.addTask(testTask("T1", "completed", as))

			out := filepath.Join(t.TempDir(), "ws-01.tar.zst")
			res := runCLI(t, fc.env(), "evidence", "download", "T1", "-o", out)
			if res.code != exitFailure {
				t.Errorf("exit code = %d, want %d", res.code, exitFailure)
			}
			for _, want := range []string{"SHA-256 mismatch", "downloaded data " + realSum, tt.wantStderr} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
				}
			}
			assertNoFile(t, out)
			assertNoFile(t, out+".partial")
			assertNoFile(t, out+".sha256")
			if res.stdout != "" {
				t.Errorf("stdout = %q, want nothing on failure", res.stdout)
			}
		})
	}
}

func TestEvidenceDownloadRefusesOverwrite(t *testing.T) {
	fc := newFakeConsole(t)
	data := testPackage("ws-01")
	as := fc.addEvidence(testAssignment("A1", "ws-01", "completed"), data)
	fc.addTask(testTask("T1", "completed", as))

	out := filepath.Join(t.TempDir(), "ws-01.tar.zst")
	if err := os.WriteFile(out, []byte("earlier package"), 0o600); err != nil {
		t.Fatal(err)
	}

	res := runCLI(t, fc.env(), "evidence", "download", "T1", "-o", out)
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	if want := out + " already exists; pass --force to overwrite it"; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", res.stderr, want)
	}
	if got, _ := os.ReadFile(out); string(got) != "earlier package" {
		t.Errorf("existing file was changed to %d bytes", len(got))
	}
	assertNoFile(t, out+".partial")

	res = runCLI(t, fc.env(), "evidence", "download", "T1", "-o", out, "--force")
	if res.code != exitOK {
		t.Fatalf("--force: exit code = %d; stderr: %s", res.code, res.stderr)
	}
	assertDownloaded(t, out, data)
}

func TestEvidenceDownloadRefusesExistingChecksumFile(t *testing.T) {
	fc := newFakeConsole(t)
	data := testPackage("ws-01")
	as := fc.addEvidence(testAssignment("A1", "ws-01", "completed"), data)
	fc.addTask(testTask("T1", "completed", as))

	out := filepath.Join(t.TempDir(), "ws-01.tar.zst")
	const earlier = "earlier checksum\n"
	if err := os.WriteFile(out+".sha256", []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}

	res := runCLI(t, fc.env(), "evidence", "download", "T1", "-o", out)
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	if want := out + ".sha256 already exists; pass --force to overwrite it"; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", res.stderr, want)
	}
	if got, _ := os.ReadFile(out + ".sha256"); string(got) != earlier {
		t.Errorf("existing checksum file was changed to %q", got)
	}
	assertNoFile(t, out)
	assertNoFile(t, out+".partial")
	fc.mu.Lock()
	requests := append([]string(nil), fc.requests...)
	fc.mu.Unlock()
	if len(requests) != 0 {
		t.Errorf("console received %q, want no request before the check", requests)
	}

	res = runCLI(t, fc.env(), "evidence", "download", "T1", "-o", out, "--force")
	if res.code != exitOK {
		t.Fatalf("--force: exit code = %d; stderr: %s", res.code, res.stderr)
	}
	assertDownloaded(t, out, data)
}

func TestEvidenceDownloadRefusesExistingChecksumFileInDirectory(t *testing.T) {
	fc := newFakeConsole(t)
	as1 := fc.addEvidence(testAssignment("A1", "ws-01", "completed"), testPackage("ws-01"))
	as2 := fc.addEvidence(testAssignment("A2", "db-02", "completed"), testPackage("db-02"))
	fc.addTask(testTask("T1", "completed", as1, as2))

	dir := t.TempDir()
	existing := filepath.Join(dir, "db-02-A2.tar.zst.sha256")
	if err := os.WriteFile(existing, []byte("earlier checksum\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	res := runCLI(t, fc.env(), "evidence", "download", "T1", "-o", dir)
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	if want := existing + " already exists; pass --force to overwrite it"; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", res.stderr, want)
	}
	if got := fc.evidenceRequests(); len(got) != 0 {
		t.Errorf("console received evidence requests %q, want none", got)
	}
	assertNoFile(t, filepath.Join(dir, "ws-01-A1.tar.zst"))
	assertNoFile(t, filepath.Join(dir, "db-02-A2.tar.zst"))
}

func TestEvidenceDownloadTrailingSlashMakesDirectory(t *testing.T) {
	fc := newFakeConsole(t)
	data := testPackage("ws-01")
	as := fc.addEvidence(testAssignment("A1", "ws-01", "completed"), data)
	fc.addTask(testTask("T1", "completed", as))

	tests := []struct {
		name string
		dir  string // relative to a fresh temporary directory
	}{
		{"new directory", "newdir"},
		{"new nested directories", filepath.Join("case-17", "ws-01")},
		{"existing directory", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tt.dir)
			res := runCLI(t, fc.env(), "evidence", "download", "T1", "-o", dir+string(filepath.Separator))
			if res.code != exitOK {
				t.Fatalf("exit code = %d; stderr: %s", res.code, res.stderr)
			}
			assertDownloaded(t, filepath.Join(dir, "ws-01-A1.tar.zst"), data)
		})
	}
}

func TestEvidenceDownloadHashMismatchKeepsExistingFile(t *testing.T) {
	fc := newFakeConsole(t)
	as := fc.addEvidence(testAssignment("A1", "ws-01", "completed"), testPackage("ws-01"))
	fc.headerSHA["A1"] = strings.Repeat("0", 64)
	fc.addTask(testTask("T1", "completed", as))

	out := filepath.Join(t.TempDir(), "ws-01.tar.zst")
	if err := os.WriteFile(out, []byte("earlier package"), 0o600); err != nil {
		t.Fatal(err)
	}

	res := runCLI(t, fc.env(), "evidence", "download", "T1", "-o", out, "--force")
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	if !strings.Contains(res.stderr, "SHA-256 mismatch") {
		t.Errorf("stderr lacks the mismatch:\n%s", res.stderr)
	}
	if got, _ := os.ReadFile(out); string(got) != "earlier package" {
		t.Errorf("failed download changed the existing file to %d bytes", len(got))
	}
	assertNoFile(t, out+".partial")
	assertNoFile(t, out+".sha256")
}

func TestEvidenceDownloadWithoutEvidence(t *testing.T) {
	fc := newFakeConsole(t)
	fc.addTask(testTask("T1", "open", testAssignment("A1", "ws-01", "running")))

	out := filepath.Join(t.TempDir(), "ws-01.tar.zst")
	res := runCLI(t, fc.env(), "evidence", "download", "T1", "-o", out)
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	if want := "task T1 has no evidence yet (states: ws-01 (R-ws-01)=running)"; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", res.stderr, want)
	}
	assertNoFile(t, out)
}

func TestEvidenceDownloadRequiresOutput(t *testing.T) {
	res := runCLI(t, nil, "evidence", "download", "T1")
	if res.code != exitUsage || !strings.Contains(res.stderr, "missing -o FILE") {
		t.Errorf("exit code = %d, stderr = %q", res.code, res.stderr)
	}
}

func TestSafeFileName(t *testing.T) {
	tests := map[string]string{
		"ws-01.corp":     "ws-01.corp",
		"../../etc":      ".._.._etc",
		`C:\Windows`:     "C__Windows",
		"..":             "unnamed",
		"":               "unnamed",
		"host name/with": "host_name_with",
	}
	for in, want := range tests {
		if got := safeFileName(in); got != want {
			t.Errorf("safeFileName(%q) = %q, want %q", in, got, want)
		}
	}
}
