package bench

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// buildBinaries builds the three Magpie binaries into a temporary
// directory, as 'make build' does without the version stamp.
func buildBinaries(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, pkg := range map[string]string{
		"magpie-console":   "../console/cmd/magpie-console",
		"magpie-responder": "../responder/cmd/magpie-responder",
		"magpie":           "../console/cmd/magpie",
	} {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(dir, name), pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", name, err, out)
		}
	}
	return dir
}

func TestRunSmallEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binaries")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the benchmarks read /proc")
	}
	for _, tool := range []string{"tar", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the baseline needs %s", tool)
		}
	}

	work := t.TempDir()
	cfg := Config{
		BinDir:    buildBinaries(t),
		Root:      filepath.Join(work, "root"),
		OutFile:   filepath.Join(work, "out", "results.md"),
		WorkDir:   work,
		TreeSize:  2 << 20,
		TreeFiles: 40,
		Runs:      1,
		Calls:     5,
		IdleWait:  100 * time.Millisecond,
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	results, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}

	if results.Version == "" {
		t.Error("results lack the binaries' version")
	}

	p := results.Pipeline
	if p == nil || len(p.Runs) != 1 {
		t.Fatalf("pipeline results = %+v, want one run", p)
	}
	run := p.Runs[0]
	if run.Magpie.Wall <= 0 || run.Baseline.Wall <= 0 {
		t.Errorf("wall times Magpie %v, baseline %v; want both > 0", run.Magpie.Wall, run.Baseline.Wall)
	}
	if run.Magpie.Collect <= 0 || run.Magpie.Upload <= 0 {
		t.Errorf("phases collect %v, upload %v; want both > 0", run.Magpie.Collect, run.Magpie.Upload)
	}
	if run.Magpie.FilesCollected != 40 || run.Magpie.BytesCollected != 2<<20 {
		t.Errorf("package holds %d files, %d bytes; want 40 files, %d bytes", run.Magpie.FilesCollected, run.Magpie.BytesCollected, 2<<20)
	}
	if run.Magpie.EvidenceBytes <= 0 || run.Baseline.OutputBytes <= 0 {
		t.Errorf("output sizes Magpie %d, baseline %d; want both > 0", run.Magpie.EvidenceBytes, run.Baseline.OutputBytes)
	}
	if run.Magpie.ResponderPeakRSS <= 0 || run.Magpie.ConsolePeakRSS <= 0 {
		t.Errorf("peak RSS responder %d, console %d; want both > 0", run.Magpie.ResponderPeakRSS, run.Magpie.ConsolePeakRSS)
	}

	i := results.Idle
	if i == nil || i.ResponderRSS <= 0 || i.ResponderHWM < i.ResponderRSS {
		t.Errorf("idle results = %+v, want RSS > 0 and HWM >= RSS", i)
	}
	if i != nil && len(i.Binaries) != 3 {
		t.Errorf("idle results describe %d binaries, want 3", len(i.Binaries))
	}

	l := results.Latency
	if l == nil || len(l.Latencies) != 5 {
		t.Fatalf("latency results = %+v, want 5 latencies", l)
	}
	for _, d := range l.Latencies {
		if d <= 0 || d > time.Minute {
			t.Errorf("latency %v is outside (0, 1m]", d)
		}
	}
	if l.Completed != 5 {
		t.Errorf("%d of 5 latency tasks completed", l.Completed)
	}

	out, err := os.ReadFile(cfg.OutFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| evidence pipeline | ratio of the medians, Magpie / baseline |", "| responder idle | VmRSS", "| trigger to receipt | p50"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("results file lacks %q", want)
		}
	}

	// Every lab directory is removed after a successful run.
	leftovers, _ := filepath.Glob(filepath.Join(work, "magpie-bench-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary directories left behind: %v", leftovers)
	}
}
