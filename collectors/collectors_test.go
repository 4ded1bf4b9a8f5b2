package collectors

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/magpie-ir/magpie/collectors/profile"
	"github.com/magpie-ir/magpie/internal/evidence"
)

func TestRunRecordsFailedCollectorAndGoesOn(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "hosts"), []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prof := profile.Profile{Name: "Test", OS: map[string]profile.OSSpec{
		// The root has no proc directory, so the kernel_modules collector
		// fails there on every OS.
		"linux":   {Files: []string{"/etc/hosts"}, Live: []string{"kernel_modules"}},
		"darwin":  {Files: []string{"/etc/hosts"}, Live: []string{"kernel_modules"}},
		"windows": {Files: []string{"/etc/hosts"}, Live: []string{"kernel_modules"}},
	}}

	w, err := evidence.NewWriter(evidence.WriterOptions{SpoolDir: t.TempDir(), Header: evidence.Header{TaskID: "t1", AssignmentID: "a1", Root: root}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := Run(context.Background(), Options{Profile: prof, Root: root}, w); err != nil {
		t.Fatalf("Run: %v", err)
	}
	pkg, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}

	if len(pkg.Manifest.Live) != 1 || pkg.Manifest.Live[0].Collector != "kernel_modules" || pkg.Manifest.Live[0].Error == "" {
		t.Errorf("live entries = %+v, want one kernel_modules entry with an error", pkg.Manifest.Live)
	}
	if pkg.Manifest.Summary.FilesCollected != 1 {
		t.Errorf("files collected = %d, want 1 (/etc/hosts)", pkg.Manifest.Summary.FilesCollected)
	}
	report, err := evidence.VerifyFile(pkg.Path)
	if err != nil || len(report.Problems) != 0 {
		t.Errorf("package does not verify: %v %v", err, report.Problems)
	}
}

func TestRunRejectsProfileWithoutOS(t *testing.T) {
	w, err := evidence.NewWriter(evidence.WriterOptions{SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	err = Run(context.Background(), Options{Profile: profile.Profile{Name: "Empty"}, Root: t.TempDir(), GOOS: "plan9"}, w)
	if err == nil {
		t.Fatal("Run accepted a profile with nothing for plan9")
	}
}
