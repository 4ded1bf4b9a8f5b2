package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/magpie-ir/magpie/internal/evidence"
)

// verifyResult is the outcome of "evidence verify", printed as JSON by
// --json.
type verifyResult struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// ChecksumFile is FILE.sha256 when it exists next to the package.
	ChecksumFile string                     `json:"checksum_file,omitempty"`
	TaskID       string                     `json:"task_id"`
	AssignmentID string                     `json:"assignment_id"`
	Trigger      string                     `json:"trigger,omitempty"`
	Profile      string                     `json:"profile"`
	Responder    evidence.ResponderIdentity `json:"responder"`
	Files        int                        `json:"files"`
	Summary      evidence.Summary           `json:"summary"`
	// EntriesChecked counts the archive entries after manifest.json whose
	// size and SHA-256 were compared with the manifest, out of the
	// EntriesListed entries that the manifest lists.
	EntriesChecked int `json:"entries_checked"`
	EntriesListed  int `json:"entries_listed"`
	// ReadError is the error that stopped reading the package after
	// EntriesChecked entries, or empty when the whole package was read.
	ReadError string   `json:"read_error,omitempty"`
	Problems  []string `json:"problems"`
	OK        bool     `json:"ok"`
}

func defineEvidenceVerify(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print the verification result as JSON instead of a summary")

	return func(_ context.Context, a *app, args []string) error {
		path := args[0]
		res, err := verifyPackage(path)
		if err != nil {
			return err
		}

		if *asJSON {
			if err := writeJSON(a.stdout, res); err != nil {
				return err
			}
		} else {
			printVerifyResult(a.stdout, res)
		}
		if !res.OK {
			return fmt.Errorf("verify %s: %d problem(s) found", path, len(res.Problems))
		}
		return nil
	}
}

// verifyPackage hashes the package, compares the hash with FILE.sha256 when
// that file exists, and checks every entry against the manifest with
// evidence.VerifyFile. A package that cannot be read past its manifest
// returns a result with the read error among its problems. Only a missing
// file, or a file that is not a readable package at all, returns an error.
func verifyPackage(path string) (*verifyResult, error) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("package %s not found", path)
	case err != nil:
		return nil, fmt.Errorf("verify %s: %w", path, err)
	case info.IsDir():
		return nil, fmt.Errorf("package %s is a directory; pass the .tar.zst file", path)
	}

	sum, size, err := evidence.HashFile(path)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", path, err)
	}
	res := &verifyResult{Path: path, Size: size, SHA256: sum, Problems: []string{}}

	problem, found, err := checkChecksumFile(path+".sha256", sum)
	if err != nil {
		return nil, err
	}
	if found {
		res.ChecksumFile = path + ".sha256"
	}
	if problem != "" {
		res.Problems = append(res.Problems, problem)
	}

	report, err := evidence.VerifyFile(path)
	if report == nil {
		return nil, fmt.Errorf("verify %s: %w", path, err)
	}
	if m := report.Manifest; m != nil {
		res.TaskID = m.TaskID
		res.AssignmentID = m.AssignmentID
		res.Trigger = m.Trigger
		res.Profile = m.Profile
		res.Responder = m.Responder
		res.Files = len(m.Files)
		res.Summary = m.Summary
		res.EntriesListed = countListedEntries(m)
	}
	res.EntriesChecked = report.EntriesChecked
	res.Problems = append(res.Problems, report.Problems...)
	if err != nil {
		res.ReadError = readErrorCause(err).Error()
		res.Problems = append(res.Problems, fmt.Sprintf(
			"package is corrupt or truncated: reading failed after %s and %d of %d listed entries: %s",
			evidence.ManifestName, res.EntriesChecked, res.EntriesListed, res.ReadError))
	}
	res.OK = len(res.Problems) == 0
	return res, nil
}

// readErrorCause returns the error under the context that
// evidence.VerifyFile adds. That context repeats the path and counts
// entries without manifest.json, which the summary already reports in its
// own words.
func readErrorCause(err error) error {
	if cause := errors.Unwrap(err); cause != nil {
		return cause
	}
	return err
}

// countListedEntries returns the number of distinct archive entries after
// manifest.json that m lists, as evidence.VerifyFile counts them.
func countListedEntries(m *evidence.Manifest) int {
	names := make(map[string]bool)
	for _, f := range m.Files {
		if f.ArchivePath != "" {
			names[f.ArchivePath] = true
		}
	}
	for _, l := range m.Live {
		names[l.ArchivePath] = true
	}
	if m.Log.ArchivePath != "" {
		names[m.Log.ArchivePath] = true
	}
	return len(names)
}

// checkChecksumFile compares sum with the hash in a sha256sum-format file.
// found is false when the file does not exist; problem describes a mismatch
// or a malformed file.
func checkChecksumFile(path, sum string) (problem string, found bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read checksum file: %w", err)
	}

	// sha256sum writes "HEX  NAME" in text mode and "HEX *NAME" in binary
	// mode; only the hash of the first line matters here.
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) == 0 || !isSHA256Hex(fields[0]) {
		return fmt.Sprintf("%s is not in sha256sum format (\"HEX  FILE\")", path), true, nil
	}
	if want := strings.ToLower(fields[0]); want != sum {
		return fmt.Sprintf("package SHA-256 %s does not match %s in %s", sum, want, path), true, nil
	}
	return "", true, nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range strings.ToLower(s) {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

func printVerifyResult(w io.Writer, res *verifyResult) {
	fmt.Fprintf(w, "Package:          %s\n", res.Path)
	fmt.Fprintf(w, "Size:             %d bytes\n", res.Size)
	fmt.Fprintf(w, "SHA-256:          %s\n", res.SHA256)
	if res.ChecksumFile != "" {
		fmt.Fprintf(w, "Checksum file:    %s\n", res.ChecksumFile)
	} else {
		fmt.Fprintln(w, "Checksum file:    none")
	}
	fmt.Fprintf(w, "Task:             %s\n", orDash(res.TaskID))
	fmt.Fprintf(w, "Assignment:       %s\n", orDash(res.AssignmentID))
	fmt.Fprintf(w, "Profile:          %s\n", orDash(res.Profile))
	fmt.Fprintf(w, "Responder:        %s (%s)\n", orDash(res.Responder.Hostname), orDash(res.Responder.ID))
	fmt.Fprintf(w, "Files:            %d (%d collected, %d skipped, %d failed)\n",
		res.Files, res.Summary.FilesCollected, res.Summary.FilesSkipped, res.Summary.FilesFailed)
	if res.ReadError != "" {
		fmt.Fprintf(w, "Entries checked:  %d of %d, then the package could not be read\n", res.EntriesChecked, res.EntriesListed)
	} else {
		fmt.Fprintf(w, "Entries checked:  %d of %d\n", res.EntriesChecked, res.EntriesListed)
	}

	if res.OK && res.ChecksumFile == "" {
		// Without the console's recorded hash, bytes outside the tar
		// entries (zstd padding frames) are not covered.
		fmt.Fprintln(w, "Result:           OK (every entry matches the manifest; the package hash was not checked: compare SHA-256 above with the hash the console recorded, 'magpie tasks show')")
		return
	}
	if res.OK {
		fmt.Fprintln(w, "Result:           OK")
		return
	}
	fmt.Fprintf(w, "Result:           %d problem(s)\n", len(res.Problems))
	for _, p := range res.Problems {
		fmt.Fprintf(w, "  - %s\n", p)
	}
}
