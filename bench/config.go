// Package bench runs Magpie's benchmarks against the real binaries on
// 127.0.0.1: evidence pipeline throughput against a tar and zstd baseline,
// the responder's idle footprint and binary size, and the latency from a
// trigger call to the responder receiving its assignment. It renders the
// results as Markdown.
package bench

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Benchmark names for Config.Benchmarks.
const (
	BenchPipeline = "pipeline"
	BenchIdle     = "idle"
	BenchLatency  = "latency"
)

// AllBenchmarks lists every benchmark in the order Run runs them.
var AllBenchmarks = []string{BenchPipeline, BenchIdle, BenchLatency}

// Targets the results are compared with.
const (
	// RatioTarget is the minimum Magpie/baseline throughput ratio.
	RatioTarget = 0.9
	// IdleRSSTarget is the maximum idle resident set size of a responder,
	// in bytes.
	IdleRSSTarget = 20_000_000
	// BinarySizeTarget is the maximum size of bin/magpie-responder in
	// bytes.
	BinarySizeTarget = 25_000_000
)

// Config configures Run. The zero value of a field means its default.
type Config struct {
	// BinDir contains the binaries built by 'make build'. Default "bin".
	BinDir string
	// Root is the responder's --root; the tree is Root/bench/tree.
	// Default "bench/out/root".
	Root string
	// OutFile receives the Markdown results. Default
	// "bench/out/results.md".
	OutFile string
	// WorkDir contains the temporary directories of consoles, responders
	// and the baseline output. Default os.TempDir().
	WorkDir string
	// TreeSize is the total size of the generated tree in bytes. Default
	// 1 GiB.
	TreeSize int64
	// TreeFiles is the number of files in the tree. Default 2000.
	TreeFiles int
	// Seed selects the tree's content. Zero is a valid seed, so it has no
	// default.
	Seed uint64
	// Runs is how many times the pipeline benchmark runs; the report
	// shows medians. Default 3.
	Runs int
	// Calls is the number of trigger calls of the latency benchmark.
	// Default 1000.
	Calls int
	// Benchmarks selects what runs. Default AllBenchmarks.
	Benchmarks []string
	// TaskTimeout bounds the wait for one pipeline task. Default 30 min.
	TaskTimeout time.Duration
	// IdleWait is how long the idle benchmark waits after the responder
	// is online before it reads the memory counters. Default 5 s.
	IdleWait time.Duration
	// PerfDir, when set, adds one pipeline run profiled with 'perf
	// record' on the responder and the console. It writes
	// responder.perf.data and console.perf.data there. That run is not
	// part of the medians.
	PerfDir string
	// KeepLabs keeps the temporary directories with logs and data.
	KeepLabs bool
	// Log receives progress messages. Default slog.Default().
	Log *slog.Logger
}

// setDefaults fills zero fields with their defaults and validates c.
func (c *Config) setDefaults() error {
	if c.BinDir == "" {
		c.BinDir = "bin"
	}
	if c.Root == "" {
		c.Root = "bench/out/root"
	}
	if c.OutFile == "" {
		c.OutFile = "bench/out/results.md"
	}
	if c.TreeSize == 0 {
		c.TreeSize = 1 << 30
	}
	if c.TreeFiles == 0 {
		c.TreeFiles = 2000
	}
	if c.Runs == 0 {
		c.Runs = 3
	}
	if c.Calls == 0 {
		c.Calls = 1000
	}
	if len(c.Benchmarks) == 0 {
		c.Benchmarks = AllBenchmarks
	}
	if c.TaskTimeout == 0 {
		c.TaskTimeout = 30 * time.Minute
	}
	if c.IdleWait == 0 {
		c.IdleWait = 5 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}

	var errs []error
	for _, b := range c.Benchmarks {
		if !slices.Contains(AllBenchmarks, b) {
			errs = append(errs, fmt.Errorf("unknown benchmark %q; use %s", b, strings.Join(AllBenchmarks, ", ")))
		}
	}
	if c.Runs < 1 || c.Runs > 100 {
		errs = append(errs, fmt.Errorf("invalid run count %d: use 1 to 100", c.Runs))
	}
	if c.Calls < 1 || c.Calls > 10000 {
		errs = append(errs, fmt.Errorf("invalid call count %d: use 1 to 10000", c.Calls))
	}
	return errors.Join(errs...)
}

func (c *Config) enabled(name string) bool {
	return slices.Contains(c.Benchmarks, name)
}

// sizeUnits are the suffixes ParseSize accepts, longest first.
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"KB", 1e3},
	{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10},
	{"B", 1},
}

// ParseSize parses a byte count such as "1GiB", "64MiB", "500MB" or
// "1048576". Binary suffixes (KiB, MiB, GiB and the bare K, M, G) are
// powers of 1024; decimal ones (kB, MB, GB) are powers of 1000.
func ParseSize(in string) (int64, error) {
	s := strings.TrimSpace(in)
	factor := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			factor = u.factor
			s = strings.TrimSpace(strings.TrimSuffix(s, u.suffix))
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid size %q: use a positive number with an optional unit such as 64MiB or 1GiB", in)
	}
	return int64(n * float64(factor)), nil
}
