package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/klauspost/compress/zstd"

	"github.com/magpie-ir/magpie/internal/evidence"
)

// liveMarker is a string in the test package's live data that
// tamperPackage rewrites.
const liveMarker = "pid-4242-marker"

// writeTestPackage builds a real evidence package with one live collector
// and returns its path.
func writeTestPackage(t *testing.T) string {
	t.Helper()
	w, err := evidence.NewWriter(evidence.WriterOptions{
		SpoolDir: t.TempDir(),
		Header: evidence.Header{
			TaskID:       "T1",
			AssignmentID: "A1",
			Trigger:      "siem",
			Profile:      "triage",
			Root:         "/",
			Responder:    evidence.ResponderIdentity{ID: "R1", Hostname: "ws-01", OS: "linux", Arch: "amd64", Version: "0.3.0"},
			Started:      time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = w.AddLive("processes", func(out io.Writer) error {
		for i := range 100 {
			fmt.Fprintf(out, "{\"pid\":%d,\"name\":\"%s\"}\n", i, liveMarker)
		}
		return nil
	})
	if err != nil {
		w.Abort()
		t.Fatal(err)
	}
	pkg, err := w.Close()
	if err != nil {
		w.Abort()
		t.Fatal(err)
	}

	// Move the package out of the spool directory, as a download would.
	path := filepath.Join(t.TempDir(), "ws-01-A1.tar.zst")
	if err := os.Rename(pkg.Path, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// tamperPackage rewrites one byte of the live data inside the compressed
// tar, so the archive stays readable but an entry's hash no longer matches
// the manifest.
func tamperPackage(t *testing.T, path string) {
	t.Helper()
	compressed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	plain, err := dec.DecodeAll(compressed, nil)
	if err != nil {
		t.Fatal(err)
	}

	i := bytes.Index(plain, []byte(liveMarker))
	if i < 0 {
		t.Fatal("live data marker not found in the package")
	}
	plain[i] = 'P'

	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	if err := os.WriteFile(path, enc.EncodeAll(plain, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeChecksumFile(t *testing.T, path, sum string) {
	t.Helper()
	line := sum + "  " + filepath.Base(path) + "\n"
	if err := os.WriteFile(path+".sha256", []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEvidenceVerifyOK(t *testing.T) {
	path := writeTestPackage(t)
	sum, _, err := evidence.HashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeChecksumFile(t, path, sum)

	res := runCLI(t, nil, "evidence", "verify", path)
	if res.code != exitOK {
		t.Fatalf("exit code = %d; stdout:\n%s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{
		"SHA-256:          " + sum + "\n",
		"Checksum file:    " + path + ".sha256\n",
		"Task:             T1\n",
		"Profile:          triage\n",
		"Responder:        ws-01 (R1)\n",
		"Files:            0 (0 collected, 0 skipped, 0 failed)\n",
		"Entries checked:  2 of 2\n",
		"Result:           OK\n",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestEvidenceVerifyJSON(t *testing.T) {
	path := writeTestPackage(t)
	sum, size, err := evidence.HashFile(path)
	if err != nil {
		t.Fatal(err)
	}

	res := runCLI(t, nil, "evidence", "verify", "--json", path)
	if res.code != exitOK {
		t.Fatalf("exit code = %d; stderr: %s", res.code, res.stderr)
	}
	var got verifyResult
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, res.stdout)
	}
	want := verifyResult{
		Path:           path,
		Size:           size,
		SHA256:         sum,
		TaskID:         "T1",
		AssignmentID:   "A1",
		Trigger:        "siem",
		Profile:        "triage",
		Responder:      evidence.ResponderIdentity{ID: "R1", Hostname: "ws-01", OS: "linux", Arch: "amd64", Version: "0.3.0"},
		EntriesChecked: 2,
		EntriesListed:  2,
		Problems:       []string{},
		OK:             true,
	}
	// The writer may record an empty IP list as [] rather than null.
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func TestEvidenceVerifyChecksumFileMismatch(t *testing.T) {
	path := writeTestPackage(t)
	wrong := strings.Repeat("f", 64)
	writeChecksumFile(t, path, wrong)

	res := runCLI(t, nil, "evidence", "verify", path)
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	if want := "does not match " + wrong + " in " + path + ".sha256"; !strings.Contains(res.stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
	}
	if want := "Result:           1 problem(s)\n"; !strings.Contains(res.stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
	}
	if want := "magpie: verify " + path + ": 1 problem(s) found\n"; res.stderr != want {
		t.Errorf("stderr = %q, want %q", res.stderr, want)
	}
}

func TestEvidenceVerifyMalformedChecksumFile(t *testing.T) {
	path := writeTestPackage(t)
	if err := os.WriteFile(path+".sha256", []byte("not a hash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, nil, "evidence", "verify", path)
	if res.code != exitFailure || !strings.Contains(res.stdout, "is not in sha256sum format") {
		t.Errorf("exit code = %d, stdout:\n%s", res.code, res.stdout)
	}
}

func TestEvidenceVerifyTamperedEntry(t *testing.T) {
	path := writeTestPackage(t)
	tamperPackage(t, path)

	res := runCLI(t, nil, "evidence", "verify", path)
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d; stdout:\n%s", res.code, exitFailure, res.stdout)
	}
	for _, want := range []string{"live/processes.jsonl: SHA-256", "manifest says", "Task:             T1\n"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}
	if strings.Contains(res.stdout, "Result:           OK") {
		t.Errorf("tampered package reported OK:\n%s", res.stdout)
	}
}

func TestEvidenceVerifyNotAPackage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, []byte("just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, nil, "evidence", "verify", path)
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	if want := "magpie: verify " + path + ": "; !strings.HasPrefix(res.stderr, want) {
		t.Errorf("stderr = %q, want it to start with %q", res.stderr, want)
	}
}

func TestEvidenceVerifyMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.tar.zst")
	res := runCLI(t, nil, "evidence", "verify", path)
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	if want := "magpie: package " + path + " not found\n"; res.stderr != want {
		t.Errorf("stderr = %q, want %q", res.stderr, want)
	}
}

func TestEvidenceVerifyDirectory(t *testing.T) {
	dir := t.TempDir()
	res := runCLI(t, nil, "evidence", "verify", dir)
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	if want := "package " + dir + " is a directory"; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", res.stderr, want)
	}
}

func TestEvidenceVerifyTruncated(t *testing.T) {
	complete, err := os.ReadFile(writeTestPackage(t))
	if err != nil {
		t.Fatal(err)
	}

	// The manifest is a zstd frame of its own at the start, so both cuts
	// leave it readable and break the body or the trailer after it.
	tests := []struct {
		name string
		cut  int // bytes removed from the end
	}{
		{"body cut", len(complete) / 2},
		{"trailer cut", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ws-01-A1.tar.zst")
			if err := os.WriteFile(path, complete[:len(complete)-tt.cut], 0o600); err != nil {
				t.Fatal(err)
			}

			res := runCLI(t, nil, "evidence", "verify", "--json", path)
			if res.code != exitFailure {
				t.Errorf("--json: exit code = %d, want %d", res.code, exitFailure)
			}
			var got verifyResult
			if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, res.stdout)
			}
			if got.ReadError == "" {
				t.Fatalf("read_error is empty for a truncated package:\n%s", res.stdout)
			}
			if got.EntriesListed != 2 {
				t.Errorf("entries_listed = %d, want 2", got.EntriesListed)
			}

			res = runCLI(t, nil, "evidence", "verify", path)
			if res.code != exitFailure {
				t.Errorf("exit code = %d, want %d", res.code, exitFailure)
			}
			checked := fmt.Sprintf("%d of 2", got.EntriesChecked)
			for _, want := range []string{
				"Task:             T1\n",
				"Entries checked:  " + checked + ", then the package could not be read\n",
				"  - package is corrupt or truncated: reading failed after manifest.json and " + checked +
					" listed entries: " + got.ReadError + "\n",
			} {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
				}
			}
			// The count of the evidence package's own error leaves out
			// manifest.json, which the summary shows as read.
			if strings.Contains(res.stdout, "read package") {
				t.Errorf("stdout repeats the reader's error context:\n%s", res.stdout)
			}
		})
	}
}
