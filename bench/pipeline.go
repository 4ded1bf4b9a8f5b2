package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/magpie-ir/magpie/bench/harness"
	"github.com/magpie-ir/magpie/bench/procstat"
	"github.com/magpie-ir/magpie/bench/treegen"
	"github.com/magpie-ir/magpie/console/repository"
	"github.com/magpie-ir/magpie/internal/evidence"
)

// Names of the profiles that Run writes to its profiles directory.
const (
	// ProfileBench collects the generated tree.
	ProfileBench = "Bench"
	// ProfileEmpty matches no file. Profiles must list at least one file
	// pattern or live collector, so it lists a pattern inside an empty
	// directory.
	ProfileEmpty = "Empty"
)

// taskPollInterval is the pause between two reads of a pipeline task's
// state. It bounds the error of the measured wall time.
const taskPollInterval = 50 * time.Millisecond

// MagpieRun is one collection of the tree by a fresh console and
// responder.
type MagpieRun struct {
	// Wall is the time from just before the trigger call to the first
	// poll that finds the task completed.
	Wall time.Duration
	// Collect is from the responder's "assignment received" log line to
	// its "collection finished" line: reading, hashing and compressing
	// into the spool, and finishing the package. Upload is from there to
	// "evidence uploaded".
	Collect time.Duration
	Upload  time.Duration
	// ResponderCPU and ConsoleCPU are user plus system time spent during
	// Wall.
	ResponderCPU time.Duration
	ConsoleCPU   time.Duration
	// ResponderPeakRSS and ConsolePeakRSS are VmHWM in bytes after the
	// task completed, covering each process's whole life.
	ResponderPeakRSS int64
	ConsolePeakRSS   int64
	// EvidenceBytes is the size of the evidence package.
	EvidenceBytes int64
	// FilesCollected and BytesCollected are the package manifest's
	// summary; runMagpie checks them against the tree.
	FilesCollected int64
	BytesCollected int64
}

// BaselineRun is one run of tar piped into zstd over the same tree.
type BaselineRun struct {
	Wall time.Duration
	// CPU is user plus system time of tar and zstd together.
	CPU time.Duration
	// OutputBytes is the size of the .tar.zst file.
	OutputBytes int64
}

// PipelineRun pairs the baseline and Magpie measurements of one run.
type PipelineRun struct {
	Baseline BaselineRun
	Magpie   MagpieRun
}

// PipelineResult is the outcome of the evidence pipeline benchmark.
type PipelineResult struct {
	Tree treegen.Stats
	Runs []PipelineRun
}

// MagpieMBps returns the median Magpie throughput in MB/s.
func (r PipelineResult) MagpieMBps() float64 {
	return medianOf(r.Runs, func(run PipelineRun) float64 { return mbPerSecond(r.Tree.Bytes, run.Magpie.Wall) })
}

// BaselineMBps returns the median baseline throughput in MB/s.
func (r PipelineResult) BaselineMBps() float64 {
	return medianOf(r.Runs, func(run PipelineRun) float64 { return mbPerSecond(r.Tree.Bytes, run.Baseline.Wall) })
}

// Ratio returns the median Magpie throughput over the median baseline
// throughput.
func (r PipelineResult) Ratio() float64 {
	if b := r.BaselineMBps(); b > 0 {
		return r.MagpieMBps() / b
	}
	return 0
}

// pipelineEnv is the input that every pipeline run shares.
type pipelineEnv struct {
	cfg         *Config
	treeDir     string
	tree        treegen.Stats
	profilesDir string
}

// runPipeline runs the baseline and then Magpie cfg.Runs times, each
// after reading the whole tree once so that both start with it in the
// page cache.
func runPipeline(ctx context.Context, env pipelineEnv) (PipelineResult, error) {
	cfg := env.cfg
	result := PipelineResult{Tree: env.tree}
	for i := range cfg.Runs {
		if err := warmTree(env.treeDir, env.tree.Bytes); err != nil {
			return result, err
		}
		base, err := runBaseline(ctx, cfg.WorkDir, cfg.Root)
		if err != nil {
			return result, err
		}
		cfg.Log.Info("baseline run finished", "run", i+1, "wall", base.Wall.Round(time.Millisecond), "mb_per_s", fmt.Sprintf("%.1f", mbPerSecond(env.tree.Bytes, base.Wall)))

		if err := warmTree(env.treeDir, env.tree.Bytes); err != nil {
			return result, err
		}
		mag, err := runMagpie(ctx, env, "")
		if err != nil {
			return result, err
		}
		cfg.Log.Info("magpie run finished", "run", i+1, "wall", mag.Wall.Round(time.Millisecond), "mb_per_s", fmt.Sprintf("%.1f", mbPerSecond(env.tree.Bytes, mag.Wall)),
			"responder_cpu", mag.ResponderCPU, "console_cpu", mag.ConsoleCPU)
		result.Runs = append(result.Runs, PipelineRun{Baseline: base, Magpie: mag})
	}

	if cfg.PerfDir != "" {
		if err := warmTree(env.treeDir, env.tree.Bytes); err != nil {
			return result, err
		}
		mag, err := runMagpie(ctx, env, cfg.PerfDir)
		if err != nil {
			return result, fmt.Errorf("profiled run: %w", err)
		}
		cfg.Log.Info("profiled magpie run finished", "wall", mag.Wall.Round(time.Millisecond), "perf_dir", cfg.PerfDir)
	}
	return result, nil
}

// warmTree reads every file under dir once so that it is in the page
// cache, and checks that the files add up to want bytes. Dropping the
// cache instead would need root and would affect the whole machine.
func warmTree(dir string, want int64) error {
	buf := make([]byte, 1<<20)
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.CopyBuffer(io.Discard, f, buf)
		total += n
		return err
	})
	if err != nil {
		return fmt.Errorf("warm page cache: %w", err)
	}
	if total != want {
		return fmt.Errorf("warm page cache: tree %s contains %d bytes, expected %d; delete it and run again", dir, total, want)
	}
	return nil
}

// runBaseline runs 'tar -cf - -C ROOT/bench tree | zstd -3 -T1 -q -o OUT'
// with OUT in a temporary directory under workDir, and removes OUT after.
func runBaseline(ctx context.Context, workDir, root string) (BaselineRun, error) {
	dir, err := os.MkdirTemp(workDir, "magpie-bench-baseline-")
	if err != nil {
		return BaselineRun{}, fmt.Errorf("baseline: %w", err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "tree.tar.zst")

	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	tar := exec.CommandContext(ctx, "tar", "-cf", "-", "-C", filepath.Join(root, "bench"), "tree")
	zstd := exec.CommandContext(ctx, "zstd", "-3", "-T1", "-q", "-o", out)
	tar.Stderr = os.Stderr
	zstd.Stderr = os.Stderr
	pr, pw, err := os.Pipe()
	if err != nil {
		return BaselineRun{}, fmt.Errorf("baseline: %w", err)
	}
	tar.Stdout = pw
	zstd.Stdin = pr

	start := time.Now()
	if err := zstd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return BaselineRun{}, fmt.Errorf("baseline: start zstd: %w", err)
	}
	if err := tar.Start(); err != nil {
		pr.Close()
		pw.Close()
		zstd.Wait()
		return BaselineRun{}, fmt.Errorf("baseline: start tar: %w", err)
	}
	// The children have their own copies of the pipe's ends; closing ours
	// lets zstd see the end of input when tar exits.
	pr.Close()
	pw.Close()
	tarErr := tar.Wait()
	zstdErr := zstd.Wait()
	wall := time.Since(start)
	if err := errors.Join(tarErr, zstdErr); err != nil {
		return BaselineRun{}, fmt.Errorf("baseline: tar | zstd: %w", err)
	}

	info, err := os.Stat(out)
	if err != nil {
		return BaselineRun{}, fmt.Errorf("baseline: %w", err)
	}
	cpu := tar.ProcessState.UserTime() + tar.ProcessState.SystemTime() +
		zstd.ProcessState.UserTime() + zstd.ProcessState.SystemTime()
	return BaselineRun{Wall: wall, CPU: cpu, OutputBytes: info.Size()}, nil
}

// runMagpie starts a console and a responder, collects the tree once with
// the Bench profile and stops both. With perfDir set, 'perf record'
// samples both processes during the collection.
func runMagpie(ctx context.Context, env pipelineEnv, perfDir string) (run MagpieRun, err error) {
	cfg := env.cfg
	lab, err := harness.NewLab(cfg.BinDir, cfg.WorkDir, "pipeline")
	if err != nil {
		return run, err
	}
	defer func() { err = closeLab(lab, cfg, err) }()

	console, err := lab.StartConsole(ctx, env.profilesDir)
	if err != nil {
		return run, err
	}
	responder, err := lab.StartResponder(ctx, console, harness.ResponderOptions{Root: cfg.Root, ProfilesDir: env.profilesDir, LogJSON: true})
	if err != nil {
		return run, err
	}
	if err := console.WaitOnline(ctx, responder); err != nil {
		return run, err
	}
	trigger, err := console.CreateTrigger(ctx, "bench-pipeline", ProfileBench)
	if err != nil {
		return run, err
	}
	callURL, err := console.CallURL(trigger, responder.Info.Hostname)
	if err != nil {
		return run, err
	}

	var perf []*harness.Process
	if perfDir != "" {
		perf, err = startPerf(lab, perfDir, responder.Process, console.Process)
		if err != nil {
			return run, err
		}
	}

	consoleBefore, err := procstat.Read(console.Process.PID())
	if err != nil {
		return run, err
	}
	responderBefore, err := procstat.Read(responder.Process.PID())
	if err != nil {
		return run, err
	}

	start := time.Now()
	reply, err := console.Call(ctx, callURL)
	if err != nil {
		return run, err
	}
	task, err := console.WaitTask(ctx, reply.Data.TaskID, taskPollInterval, cfg.TaskTimeout)
	if err != nil {
		return run, err
	}
	run.Wall = time.Since(start)

	consoleAfter, err := procstat.Read(console.Process.PID())
	if err != nil {
		return run, err
	}
	responderAfter, err := procstat.Read(responder.Process.PID())
	if err != nil {
		return run, err
	}
	for _, p := range perf {
		if err := p.Stop(time.Minute); err != nil {
			return run, err
		}
	}

	run.ConsoleCPU = consoleAfter.CPU - consoleBefore.CPU
	run.ResponderCPU = responderAfter.CPU - responderBefore.CPU
	run.ConsolePeakRSS = consoleAfter.HWM
	run.ResponderPeakRSS = responderAfter.HWM
	if len(task.Assignments) != 1 {
		return run, fmt.Errorf("task %s has %d assignments, want 1", task.ID, len(task.Assignments))
	}
	a := task.Assignments[0]
	if a.Evidence == nil {
		return run, fmt.Errorf("completed task %s has no evidence package", task.ID)
	}
	run.EvidenceBytes = a.Evidence.Size
	if run.Collect, run.Upload, err = readPhases(ctx, responder.Process, task.ID); err != nil {
		return run, err
	}

	pkg := filepath.Join(console.DataDir, "evidence", filepath.FromSlash(repository.Key(task.ID, a.ID)))
	manifest, err := evidence.ReadManifest(pkg)
	if err != nil {
		return run, err
	}
	sum := manifest.Summary
	run.FilesCollected, run.BytesCollected = sum.FilesCollected, sum.BytesCollected
	if sum.FilesCollected != int64(env.tree.Files) || sum.BytesCollected != env.tree.Bytes || sum.FilesFailed > 0 {
		return run, fmt.Errorf("package %s contains %d files and %d bytes with %d failures, expected the tree's %d files and %d bytes",
			pkg, sum.FilesCollected, sum.BytesCollected, sum.FilesFailed, env.tree.Files, env.tree.Bytes)
	}
	return run, nil
}

// readPhases returns the collect and upload durations of task from the
// responder's JSON log. The responder logs "evidence uploaded" after the
// console has replied, so it may lag the task's completion slightly; this
// polls until the line appears.
func readPhases(ctx context.Context, responder *harness.Process, taskID string) (collect, upload time.Duration, err error) {
	var received, collected, uploaded time.Time
	err = harness.WaitFor(ctx, time.Minute, "responder log of the upload", responder, func() (bool, error) {
		var times [3]map[string]time.Time
		for i, msg := range []string{receiptMessage, collectedMessage, uploadedMessage} {
			t, err := readLogFileTimes(responder.LogPath, msg)
			if err != nil {
				return false, err
			}
			times[i] = t
		}
		var ok [3]bool
		received, ok[0] = times[0][taskID]
		collected, ok[1] = times[1][taskID]
		uploaded, ok[2] = times[2][taskID]
		return ok[0] && ok[1] && ok[2], nil
	})
	if err != nil {
		return 0, 0, err
	}
	return collected.Sub(received), uploaded.Sub(collected), nil
}

// startPerf starts 'perf record' with call graphs on each process,
// writing NAME.perf.data to dir.
func startPerf(lab *harness.Lab, dir string, procs ...*harness.Process) ([]*harness.Process, error) {
	perfPath, err := exec.LookPath("perf")
	if err != nil {
		return nil, fmt.Errorf("--perf-dir needs perf (Debian: apt-get install linux-perf): %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create perf directory: %w", err)
	}
	var started []*harness.Process
	for _, p := range procs {
		out := filepath.Join(dir, p.Name+".perf.data")
		pp, err := lab.Start("perf-"+p.Name, nil, perfPath, "record", "-F", "499", "-g", "-o", out, "-p", fmt.Sprint(p.PID()))
		if err != nil {
			return nil, err
		}
		started = append(started, pp)
	}
	return started, nil
}

// closeLab stops the lab's processes and removes its directory, unless
// the run failed or cfg.KeepLabs is set: then it keeps the directory and
// names it in the returned error or log.
func closeLab(lab *harness.Lab, cfg *Config, runErr error) error {
	keep := cfg.KeepLabs || runErr != nil
	err := errors.Join(runErr, lab.Close(keep))
	if runErr != nil {
		return fmt.Errorf("%w (logs and data kept in %s)", err, lab.Dir)
	}
	if keep {
		cfg.Log.Info("lab directory kept", "dir", lab.Dir)
	}
	return err
}
