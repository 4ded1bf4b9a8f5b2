package bench

import (
	"fmt"
	"strings"
	"time"

	"github.com/magpie-ir/magpie/bench/treegen"
)

// Results contains the measurements of Run. A nil field is a benchmark that did not
// run.
type Results struct {
	Machine  Machine
	Pipeline *PipelineResult
	Idle     *IdleResult
	Latency  *LatencyResult
	// TreeRoot is the responder's --root, for the report.
	TreeRoot string
	// Version is the output of 'magpie-responder version'.
	Version string
}

// mb formats bytes in MB (10^6 bytes).
func mb(bytes int64) string {
	return fmt.Sprintf("%.1f", float64(bytes)/1e6)
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.2f", d.Seconds())
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
}

// verdict compares a result with a target.
func verdict(met bool) string {
	if met {
		return "met"
	}
	return "**not met**"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Markdown renders the results: a summary table, then one section per
// benchmark with its details. Sizes are in MB (10^6 bytes).
func (r *Results) Markdown() string {
	var b strings.Builder
	b.WriteString("# Magpie benchmark results\n\n")
	r.writeMachine(&b)
	r.writeSummary(&b)
	if r.Pipeline != nil {
		r.writePipeline(&b)
	}
	if r.Idle != nil {
		r.writeIdle(&b)
	}
	if r.Latency != nil {
		r.writeLatency(&b)
	}
	return b.String()
}

func (r *Results) writeMachine(b *strings.Builder) {
	m := r.Machine
	fmt.Fprintf(b, "Run %s on %s/%s, %d CPUs (%s), SHA extensions (sha_ni): %s, memory %.1f GiB, Linux %s, %s. ",
		m.Date.UTC().Format("2006-01-02 15:04 MST"), m.OS, m.Arch, m.CPUs, orUnknown(m.CPUModel), yesNo(m.SHANI),
		float64(m.MemoryBytes)/(1<<30), orUnknown(m.Kernel), m.GoVersion)
	fmt.Fprintf(b, "Binaries: version %s (git describe at build time; -dirty marks uncommitted changes). ", orUnknown(r.Version))
	fmt.Fprintf(b, "Load average (1, 5, 15 min) at the start: %s, at the end: %s. MB is 10^6 bytes.\n\n", orUnknown(m.LoadBefore), orUnknown(m.LoadAfter))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func (r *Results) writeSummary(b *strings.Builder) {
	b.WriteString("| benchmark | measure | result | target |\n|---|---|---|---|\n")
	if p := r.Pipeline; p != nil && len(p.Runs) > 0 {
		n := len(p.Runs)
		ratio := p.Ratio()
		fmt.Fprintf(b, "| evidence pipeline | Magpie throughput, median of %d | %.1f MB/s | |\n", n, p.MagpieMBps())
		fmt.Fprintf(b, "| evidence pipeline | baseline `tar \\| zstd -3 -T1` throughput, median of %d | %.1f MB/s | |\n", n, p.BaselineMBps())
		fmt.Fprintf(b, "| evidence pipeline | ratio of the medians, Magpie / baseline | %.2f | ≥ %.1f: %s |\n", ratio, RatioTarget, verdict(ratio >= RatioTarget))
		fmt.Fprintf(b, "| evidence pipeline | responder collect / upload seconds, median | %.2f / %.2f | |\n",
			medianOf(p.Runs, func(run PipelineRun) float64 { return run.Magpie.Collect.Seconds() }),
			medianOf(p.Runs, func(run PipelineRun) float64 { return run.Magpie.Upload.Seconds() }))
		fmt.Fprintf(b, "| evidence pipeline | CPU seconds responder / console, median | %.1f / %.1f | |\n",
			medianOf(p.Runs, func(run PipelineRun) float64 { return run.Magpie.ResponderCPU.Seconds() }),
			medianOf(p.Runs, func(run PipelineRun) float64 { return run.Magpie.ConsoleCPU.Seconds() }))
		fmt.Fprintf(b, "| evidence pipeline | peak RSS responder / console, median | %.1f / %.1f MB | |\n",
			medianOf(p.Runs, func(run PipelineRun) float64 { return float64(run.Magpie.ResponderPeakRSS) / 1e6 }),
			medianOf(p.Runs, func(run PipelineRun) float64 { return float64(run.Magpie.ConsolePeakRSS) / 1e6 }))
	}
	if i := r.Idle; i != nil {
		fmt.Fprintf(b, "| responder idle | VmRSS %v after online | %s MB | ≤ %s MB: %s |\n", i.Wait, mb(i.ResponderRSS), mb(IdleRSSTarget), verdict(i.ResponderRSS <= IdleRSSTarget))
		fmt.Fprintf(b, "| responder idle | VmHWM %v after online | %s MB | |\n", i.Wait, mb(i.ResponderHWM))
		for _, bin := range i.Binaries {
			if bin.Name == "magpie-responder" {
				fmt.Fprintf(b, "| responder idle | bin/magpie-responder size | %s MB | ≤ %s MB: %s |\n", mb(bin.Size), mb(BinarySizeTarget), verdict(bin.Size <= BinarySizeTarget))
			}
		}
	}
	if l := r.Latency; l != nil {
		fmt.Fprintf(b, "| trigger to receipt | p50 / p90 / p99 / max of %d calls | %s / %s / %s / %s ms | |\n", l.Calls,
			ms(percentile(l.Latencies, 50)), ms(percentile(l.Latencies, 90)), ms(percentile(l.Latencies, 99)), ms(percentile(l.Latencies, 100)))
	}
	b.WriteString("\n")
}

func (r *Results) writePipeline(b *strings.Builder) {
	p := r.Pipeline
	t := p.Tree
	b.WriteString("## Evidence pipeline\n\n")
	fmt.Fprintf(b, "Tree %s/bench/tree: %d files, %s MB, seed %d (", r.TreeRoot, t.Files, mb(t.Bytes), t.Spec.Seed)
	for i, kind := range treegen.Kinds {
		if i > 0 {
			b.WriteString(", ")
		}
		k := t.ByKind[kind]
		fmt.Fprintf(b, "%s: %d files, %s MB", kind, k.Files, mb(k.Bytes))
	}
	b.WriteString("). Each run reads the whole tree once before the baseline and again before Magpie, so both start with the tree in the page cache. ")
	b.WriteString("Every Magpie run starts a new console and responder. Wall time is from just before the trigger call to the first task poll (every 50 ms) that finds it completed. ")
	b.WriteString("Collect and upload are the responder's two phases, from its log: the package is complete in its spool before the upload starts. ")
	b.WriteString("CPU is utime+stime from /proc/PID/stat over the wall time; peak RSS is VmHWM at the end. ")
	b.WriteString("Every package's manifest lists all files of the tree with no failures.\n\n")

	b.WriteString("| run | Magpie s | collect s | upload s | Magpie MB/s | baseline s | baseline MB/s | ratio | responder CPU s | console CPU s | baseline CPU s | responder peak RSS MB | console peak RSS MB | package MB | tar.zst MB |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for i, run := range p.Runs {
		m, base := run.Magpie, run.Baseline
		magpieRate, baseRate := mbPerSecond(t.Bytes, m.Wall), mbPerSecond(t.Bytes, base.Wall)
		fmt.Fprintf(b, "| %d | %s | %s | %s | %.1f | %s | %.1f | %.2f | %s | %s | %s | %s | %s | %s | %s |\n", i+1,
			seconds(m.Wall), seconds(m.Collect), seconds(m.Upload), magpieRate, seconds(base.Wall), baseRate, magpieRate/baseRate,
			seconds(m.ResponderCPU), seconds(m.ConsoleCPU), seconds(base.CPU),
			mb(m.ResponderPeakRSS), mb(m.ConsolePeakRSS), mb(m.EvidenceBytes), mb(base.OutputBytes))
	}
	fmt.Fprintf(b, "| median | | | | %.1f | | %.1f | %.2f | | | | | | | |\n\n", p.MagpieMBps(), p.BaselineMBps(), p.Ratio())
}

func (r *Results) writeIdle(b *strings.Builder) {
	i := r.Idle
	b.WriteString("## Responder idle footprint\n\n")
	fmt.Fprintf(b, "A new responder, enrolled and online, read %v after the console first listed it as online: VmRSS %s MB, VmHWM %s MB. The console's VmRSS at that moment: %s MB.\n\n",
		i.Wait, mb(i.ResponderRSS), mb(i.ResponderHWM), mb(i.ConsoleRSS))
	b.WriteString("| binary | size MB | symbol table (.symtab) | DWARF (.debug_*) |\n|---|---|---|---|\n")
	for _, bin := range i.Binaries {
		fmt.Fprintf(b, "| bin/%s | %s | %s | %s |\n", bin.Name, mb(bin.Size), yesNo(bin.HasSymtab), yesNo(bin.HasDWARF))
	}
	b.WriteString("\nA binary linked with -s -w has neither section.\n")
	b.WriteString("\n")
}

func (r *Results) writeLatency(b *strings.Builder) {
	l := r.Latency
	b.WriteString("## Trigger-to-receipt latency\n\n")
	fmt.Fprintf(b, "%d trigger calls, one after another over one kept-alive HTTPS connection, for a responder running the Empty profile. ", l.Calls)
	b.WriteString("That profile lists one pattern inside an empty directory, because a profile must list at least one file pattern or live collector. ")
	b.WriteString("Latency is from just before each HTTP request to the `time` of the responder's `assignment received` log line for the task. ")
	b.WriteString("The console and the responder run on this machine and share one clock. ")
	b.WriteString("Calls do not wait for earlier assignments, so the responder runs them while later calls arrive.\n\n")
	b.WriteString("| percentile | trigger to receipt ms | trigger call round trip ms |\n|---|---|---|\n")
	for _, p := range []struct {
		name string
		p    float64
	}{{"p50", 50}, {"p90", 90}, {"p99", 99}, {"max", 100}} {
		fmt.Fprintf(b, "| %s | %s | %s |\n", p.name, ms(percentile(l.Latencies, p.p)), ms(percentile(l.CallTimes, p.p)))
	}
	fmt.Fprintf(b, "\n%d of %d tasks completed within %s s after the last receipt.\n", l.Completed, l.Calls, seconds(l.Drain))
}
