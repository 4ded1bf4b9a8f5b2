// Command magpie-bench runs Magpie's benchmarks against the binaries that
// 'make build' wrote to bin/ and prints the results as Markdown. Run it
// from the repository root, usually through bench/run.sh or 'make bench'.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/magpie-ir/magpie/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "magpie-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg bench.Config
	var treeSize, only string
	flag.StringVar(&cfg.BinDir, "bin-dir", "bin", "directory with magpie-console, magpie-responder and magpie")
	flag.StringVar(&cfg.Root, "root", "bench/out/root", "responder --root; the tree is generated in ROOT/bench/tree and reused while its size, file count and seed stay the same")
	flag.StringVar(&cfg.OutFile, "out", "bench/out/results.md", "file for the Markdown results")
	flag.StringVar(&cfg.WorkDir, "work-dir", "", "parent of the temporary console, responder and baseline directories (default: the system temporary directory)")
	flag.StringVar(&treeSize, "tree-size", "1GiB", "total size of the generated tree, e.g. 64MiB or 1GiB")
	flag.IntVar(&cfg.TreeFiles, "tree-files", 2000, "number of files in the generated tree")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed of the generated tree's content")
	flag.IntVar(&cfg.Runs, "runs", 3, "number of evidence pipeline runs; the summary shows medians")
	flag.IntVar(&cfg.Calls, "calls", 1000, "number of trigger calls in the latency benchmark")
	flag.StringVar(&only, "only", "", "comma-separated benchmarks to run: "+strings.Join(bench.AllBenchmarks, ", ")+" (default: all)")
	flag.DurationVar(&cfg.TaskTimeout, "task-timeout", 0, "maximum wait for one evidence pipeline task (default 30m)")
	flag.StringVar(&cfg.PerfDir, "perf-dir", "", "add one evidence pipeline run, not counted in the results, profiled with 'perf record -g'; writes responder.perf.data and console.perf.data here")
	flag.BoolVar(&cfg.KeepLabs, "keep", false, "keep the temporary directories with the console, responder and perf logs")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: magpie-bench takes flags only", flag.Arg(0))
	}

	size, err := bench.ParseSize(treeSize)
	if err != nil {
		return fmt.Errorf("--tree-size: %w", err)
	}
	cfg.TreeSize = size
	if only != "" {
		cfg.Benchmarks = strings.Split(only, ",")
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	results, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Print(results.Markdown())
	fmt.Fprintln(os.Stderr, "magpie-bench: results written to", cfg.OutFile)
	return nil
}
