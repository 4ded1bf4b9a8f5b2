package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/magpie-ir/magpie/console/apitypes"
)

// packageExt is the file name extension of an evidence package.
const packageExt = ".tar.zst"

func defineEvidenceDownload(fs *flag.FlagSet) runFunc {
	output := fs.String("o", "",
		"`FILE` to write the evidence package to, and its SHA-256 to FILE.sha256. When the task has\n"+
			"several packages and --responder does not pick one, when FILE is an existing directory or\n"+
			"when FILE ends with a slash, it is a directory that receives HOSTNAME-ASSIGNMENTID"+packageExt+"\n"+
			"for each package (created when missing)")
	responder := fs.String("responder", "",
		"download only the package of this responder, given as its `ID_OR_HOSTNAME`")
	force := fs.Bool("force", false,
		"overwrite package and .sha256 files that already exist; without it the download stops\n"+
			"before writing anything")

	return func(ctx context.Context, a *app, args []string) error {
		if *output == "" {
			return usageError(errors.New("missing -o FILE: the file (or directory) to write the evidence package to"))
		}
		// A file named by -o is known before the task is: check it before
		// any request to the console.
		if !*force && !isDirectoryOutput(*output) {
			if err := checkTargetsAbsent([]string{*output}); err != nil {
				return err
			}
		}
		c, err := a.client()
		if err != nil {
			return err
		}

		taskID := args[0]
		var task apitypes.Task
		if err := c.getJSON(ctx, &task, nil, "api", "v1", "tasks", taskID); err != nil {
			return fmt.Errorf("get task %s: %w", taskID, err)
		}
		selected, err := selectEvidence(a.stderr, task, *responder)
		if err != nil {
			return err
		}
		targets, err := planTargets(selected, *output, *force)
		if err != nil {
			return err
		}

		failed := 0
		for i, as := range selected {
			sum, size, err := c.downloadEvidence(ctx, as, targets[i])
			if err != nil {
				failed++
				fmt.Fprintf(a.stderr, "magpie: download evidence of %s (assignment %s): %v\n", as.Hostname, as.ID, err)
				continue
			}
			fmt.Fprintf(a.stdout, "%s  %d bytes  sha256 %s\n", targets[i], size, sum)
		}
		if failed > 0 {
			return fmt.Errorf("download evidence of task %s: %d of %d packages failed", task.ID, failed, len(selected))
		}
		return nil
	}
}

// selectEvidence returns the assignments of task whose evidence to
// download: the one matching responder (an ID or a hostname), or every
// assignment with evidence when responder is empty.
func selectEvidence(stderr io.Writer, task apitypes.Task, responder string) ([]apitypes.Assignment, error) {
	if responder != "" {
		var matched []apitypes.Assignment
		for _, as := range task.Assignments {
			if as.ResponderID == responder || strings.EqualFold(as.Hostname, responder) {
				matched = append(matched, as)
			}
		}
		if len(matched) == 0 {
			return nil, fmt.Errorf("task %s has no assignment for responder %q; its responders are: %s",
				task.ID, responder, describeAssignments(task.Assignments))
		}
		for _, as := range matched {
			if as.Evidence == nil {
				return nil, fmt.Errorf("%s (assignment %s) of task %s has no evidence yet (state %s); run 'magpie tasks wait %s' first",
					as.Hostname, as.ID, task.ID, as.State, task.ID)
			}
		}
		return matched, nil
	}

	var selected []apitypes.Assignment
	for _, as := range task.Assignments {
		if as.Evidence != nil {
			selected = append(selected, as)
		}
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("task %s has no evidence yet (states: %s); run 'magpie tasks wait %s' first",
			task.ID, describeAssignments(task.Assignments), task.ID)
	}
	for _, as := range task.Assignments {
		if as.Evidence == nil {
			fmt.Fprintf(stderr, "skipping %s (assignment %s): no evidence (state %s)\n", as.Hostname, as.ID, as.State)
		}
	}
	return selected, nil
}

func describeAssignments(assignments []apitypes.Assignment) string {
	if len(assignments) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(assignments))
	for _, as := range assignments {
		parts = append(parts, fmt.Sprintf("%s (%s)=%s", as.Hostname, as.ResponderID, as.State))
	}
	return strings.Join(parts, ", ")
}

// planTargets returns the file each selected package is written to. It
// rejects the download, before any evidence is requested, when a package
// file or its .sha256 file exists and force is false. Only then does it
// create the output directory.
func planTargets(selected []apitypes.Assignment, output string, force bool) ([]string, error) {
	intoDir := isDirectoryOutput(output)
	_, statErr := os.Stat(output)
	outputIsFile := statErr == nil && !intoDir

	targets := make([]string, len(selected))
	switch {
	case len(selected) == 1 && !intoDir:
		targets[0] = output
	case outputIsFile:
		return nil, fmt.Errorf("task has %d evidence packages, so -o must name a directory, but %s is a file; pick one package with --responder",
			len(selected), output)
	default:
		intoDir = true
		for i, as := range selected {
			targets[i] = filepath.Join(output, safeFileName(as.Hostname)+"-"+safeFileName(as.ID)+packageExt)
		}
	}

	for _, target := range targets {
		for _, path := range []string{target, target + ".sha256"} {
			info, err := os.Lstat(path)
			switch {
			case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
				// A missing parent directory is created below.
			case err != nil:
				return nil, fmt.Errorf("check output file: %w", err)
			case info.IsDir():
				return nil, fmt.Errorf("output %s is a directory", path)
			}
		}
	}
	if !force {
		if err := checkTargetsAbsent(targets); err != nil {
			return nil, err
		}
	}

	if intoDir {
		if err := os.MkdirAll(output, 0o750); err != nil {
			return nil, fmt.Errorf("create output directory (-o): %w", err)
		}
	}
	return targets, nil
}

// isDirectoryOutput reports whether the -o value names a directory: one
// that exists, or any path that ends with a path separator.
func isDirectoryOutput(output string) bool {
	if output != "" && os.IsPathSeparator(output[len(output)-1]) {
		return true
	}
	info, err := os.Stat(output)
	return err == nil && info.IsDir()
}

// checkTargetsAbsent returns an error naming the first package file or
// .sha256 file of targets that already exists.
func checkTargetsAbsent(targets []string) error {
	for _, target := range targets {
		for _, path := range []string{target, target + ".sha256"} {
			if _, err := os.Lstat(path); err == nil {
				return fmt.Errorf("%s already exists; pass --force to overwrite it", path)
			}
		}
	}
	return nil
}

// safeFileName replaces the characters of s that are unsafe in a file name
// on any supported OS, so a responder's hostname cannot escape the output
// directory.
func safeFileName(s string) string {
	mapped := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		default:
			return '_'
		}
	}, s)
	if strings.Trim(mapped, ".") == "" {
		return "unnamed"
	}
	return mapped
}

// downloadEvidence streams the assignment's evidence package to
// target.partial while hashing it, and renames it to target only when its
// SHA-256 matches both the console's reply header and the task's record.
// It then writes target.sha256 in sha256sum format. On any failure it
// removes target.partial.
func (c *client) downloadEvidence(ctx context.Context, as apitypes.Assignment, target string) (sum string, size int64, err error) {
	want := strings.ToLower(as.Evidence.SHA256)
	partial := target + ".partial"

	resp, err := c.send(ctx, http.MethodGet, c.endpoint(nil, "api", "v1", "assignments", as.ID, "evidence"), nil, "application/zstd")
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()

	header := strings.ToLower(resp.Header.Get(apitypes.SHA256Header))
	if header == "" {
		return "", 0, fmt.Errorf("console reply has no %s header; cannot check the package", apitypes.SHA256Header)
	}

	// Evidence can contain credentials and personal data: only the owner
	// may read it.
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", 0, fmt.Errorf("create partial file: %w", err)
	}
	renamed := false
	defer func() {
		if !renamed {
			f.Close()
			os.Remove(partial)
		}
	}()

	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(f, h), resp.Body)
	if err != nil {
		return "", 0, fmt.Errorf("write %s: %w", partial, err)
	}
	sum = hex.EncodeToString(h.Sum(nil))

	if sum != header || sum != want {
		return "", 0, fmt.Errorf("SHA-256 mismatch: downloaded data %s, %s header %s, task record %s; removed %s",
			sum, apitypes.SHA256Header, header, want, partial)
	}

	if err := f.Sync(); err != nil {
		return "", 0, fmt.Errorf("sync %s: %w", partial, err)
	}
	if err := f.Close(); err != nil {
		return "", 0, fmt.Errorf("close %s: %w", partial, err)
	}
	if err := os.Rename(partial, target); err != nil {
		return "", 0, fmt.Errorf("rename %s: %w", partial, err)
	}
	renamed = true

	dir := filepath.Dir(target)
	if err := syncDir(dir); err != nil {
		return "", 0, fmt.Errorf("sync directory %s: %w", dir, err)
	}
	line := sum + "  " + filepath.Base(target) + "\n"
	if err := os.WriteFile(target+".sha256", []byte(line), 0o644); err != nil {
		return "", 0, fmt.Errorf("write checksum file: %w", err)
	}
	return sum, size, nil
}
