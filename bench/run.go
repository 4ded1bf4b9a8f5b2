package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/magpie-ir/magpie/bench/harness"
	"github.com/magpie-ir/magpie/bench/procstat"
	"github.com/magpie-ir/magpie/bench/treegen"
)

// Run runs the benchmarks that cfg selects, writes the Markdown report to
// cfg.OutFile and returns the results.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := checkHost(&cfg); err != nil {
		return nil, err
	}

	emptyDir := filepath.Join(cfg.Root, "bench", "empty")
	if err := os.MkdirAll(emptyDir, 0o755); err != nil {
		return nil, fmt.Errorf("create collection root: %w", err)
	}
	profilesDir, err := os.MkdirTemp(cfg.WorkDir, "magpie-bench-profiles-")
	if err != nil {
		return nil, fmt.Errorf("create profiles directory: %w", err)
	}
	defer os.RemoveAll(profilesDir)
	if err := harness.WriteProfile(profilesDir, ProfileBench, "Every file of the benchmark tree.", []string{"/bench/tree/**"}); err != nil {
		return nil, err
	}
	if err := harness.WriteProfile(profilesDir, ProfileEmpty, "A pattern inside an empty directory, so assignments finish at once.", []string{"/bench/empty/*"}); err != nil {
		return nil, err
	}

	results := &Results{Machine: readMachine(), TreeRoot: cfg.Root}
	results.Version, err = binaryVersion(ctx, cfg.BinDir)
	if err != nil {
		return nil, err
	}
	if cfg.enabled(BenchPipeline) {
		treeDir := filepath.Join(cfg.Root, "bench", "tree")
		cfg.Log.Info("preparing tree", "dir", treeDir, "size", cfg.TreeSize, "files", cfg.TreeFiles, "seed", cfg.Seed)
		tree, err := treegen.Ensure(treeDir, treegen.Spec{Size: cfg.TreeSize, Files: cfg.TreeFiles, Seed: cfg.Seed})
		if err != nil {
			return nil, err
		}
		cfg.Log.Info("tree ready", "files", tree.Files, "bytes", tree.Bytes, "reused", tree.Reused)

		p, err := runPipeline(ctx, pipelineEnv{cfg: &cfg, treeDir: treeDir, tree: tree, profilesDir: profilesDir})
		if err != nil {
			return nil, fmt.Errorf("evidence pipeline benchmark: %w", err)
		}
		results.Pipeline = &p
	}
	if cfg.enabled(BenchIdle) {
		i, err := runIdle(ctx, &cfg, profilesDir)
		if err != nil {
			return nil, fmt.Errorf("idle footprint benchmark: %w", err)
		}
		results.Idle = &i
	}
	if cfg.enabled(BenchLatency) {
		l, err := runLatency(ctx, &cfg, profilesDir)
		if err != nil {
			return nil, fmt.Errorf("trigger-to-receipt latency benchmark: %w", err)
		}
		results.Latency = &l
	}

	results.Machine.LoadAfter = readLoad()
	if err := os.MkdirAll(filepath.Dir(cfg.OutFile), 0o755); err != nil {
		return results, fmt.Errorf("create output directory: %w", err)
	}
	if err := os.WriteFile(cfg.OutFile, []byte(results.Markdown()), 0o644); err != nil {
		return results, fmt.Errorf("write results: %w", err)
	}
	return results, nil
}

// binaryVersion returns what 'magpie-responder version' prints: for a
// 'make build' binary, git describe of the source tree, with -dirty when
// it had uncommitted changes.
func binaryVersion(ctx context.Context, binDir string) (string, error) {
	bin := filepath.Join(binDir, harness.ResponderBinary)
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return "", fmt.Errorf("run %s version: %w; run 'make build' first", bin, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// checkHost makes the paths in cfg absolute and checks that this host
// can run the selected benchmarks.
func checkHost(cfg *Config) error {
	if _, err := procstat.Read(os.Getpid()); err != nil {
		return fmt.Errorf("the benchmarks read /proc: %w", err)
	}
	var errs []error
	if cfg.enabled(BenchPipeline) {
		for _, tool := range []string{"tar", "zstd"} {
			if _, err := exec.LookPath(tool); err != nil {
				errs = append(errs, fmt.Errorf("the baseline needs %s: install it (Debian: apt-get install %s)", tool, tool))
			}
		}
	}
	for _, p := range []*string{&cfg.BinDir, &cfg.Root} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*p = abs
	}
	return errors.Join(errs...)
}
