package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/magpie-ir/magpie/bench/harness"
	"github.com/magpie-ir/magpie/console/apitypes"
)

// Bounds of the latency benchmark's waits.
const (
	// callPhaseTimeout bounds the sequence of trigger calls.
	callPhaseTimeout = 30 * time.Minute
	// receiptTimeout bounds the wait for the responder to log every
	// receipt after the last call.
	receiptTimeout = 2 * time.Minute
	// drainTimeout bounds the wait for every assignment to complete after
	// the last receipt.
	drainTimeout = 10 * time.Minute
	// receiptPollInterval is the pause between two reads of the
	// responder's log.
	receiptPollInterval = 200 * time.Millisecond
)

// LatencyResult is the outcome of the trigger-to-receipt benchmark.
type LatencyResult struct {
	Calls int
	// Latencies contains, per call, the time from just before the trigger
	// request to the responder's "assignment received" log line, sorted.
	Latencies []time.Duration
	// CallTimes contains the round trip of each trigger call, sorted.
	CallTimes []time.Duration
	// Completed is the number of the measured tasks that completed within
	// drainTimeout of the last receipt; Drain is how long that took.
	Completed int
	Drain     time.Duration
}

// callRecord is one measured trigger call.
type callRecord struct {
	taskID string
	start  time.Time
	took   time.Duration
}

// runLatency fires cfg.Calls trigger calls one after another at a
// responder running the Empty profile and matches each to the
// responder's receipt log line by task ID. One unmeasured call first
// opens the HTTPS connection that the measured calls reuse.
func runLatency(ctx context.Context, cfg *Config, profilesDir string) (result LatencyResult, err error) {
	lab, err := harness.NewLab(cfg.BinDir, cfg.WorkDir, "latency")
	if err != nil {
		return result, err
	}
	defer func() { err = closeLab(lab, cfg, err) }()

	console, err := lab.StartConsole(ctx, profilesDir)
	if err != nil {
		return result, err
	}
	responder, err := lab.StartResponder(ctx, console, harness.ResponderOptions{Root: cfg.Root, ProfilesDir: profilesDir, LogJSON: true})
	if err != nil {
		return result, err
	}
	if err := console.WaitOnline(ctx, responder); err != nil {
		return result, err
	}
	trigger, err := console.CreateTrigger(ctx, "bench-latency", ProfileEmpty)
	if err != nil {
		return result, err
	}
	callURL, err := console.CallURL(trigger, responder.Info.Hostname)
	if err != nil {
		return result, err
	}

	warmup, err := console.Call(ctx, callURL)
	if err != nil {
		return result, fmt.Errorf("warm-up call: %w", err)
	}
	if _, err := waitReceipts(ctx, responder.Process, []string{warmup.Data.TaskID}); err != nil {
		return result, err
	}

	calls, err := fireCalls(ctx, console, callURL, cfg.Calls)
	if err != nil {
		return result, err
	}
	ids := make([]string, len(calls))
	for i, c := range calls {
		ids[i] = c.taskID
	}
	receipts, err := waitReceipts(ctx, responder.Process, ids)
	if err != nil {
		return result, err
	}

	result.Calls = len(calls)
	for _, c := range calls {
		result.Latencies = append(result.Latencies, receipts[c.taskID].Sub(c.start))
		result.CallTimes = append(result.CallTimes, c.took)
	}
	slices.Sort(result.Latencies)
	slices.Sort(result.CallTimes)

	result.Completed, result.Drain, err = waitCompleted(ctx, console, ids)
	if err != nil {
		return result, err
	}
	cfg.Log.Info("latency benchmark finished", "calls", result.Calls, "p50", percentile(result.Latencies, 50), "completed", result.Completed)
	return result, nil
}

// fireCalls sends n trigger calls one after another. Each start time is
// taken just before its request.
func fireCalls(ctx context.Context, console *harness.Console, callURL string, n int) ([]callRecord, error) {
	ctx, cancel := context.WithTimeout(ctx, callPhaseTimeout)
	defer cancel()
	calls := make([]callRecord, 0, n)
	for i := range n {
		start := time.Now()
		reply, err := console.Call(ctx, callURL)
		if err != nil {
			return nil, fmt.Errorf("call %d of %d: %w", i+1, n, err)
		}
		calls = append(calls, callRecord{taskID: reply.Data.TaskID, start: start, took: time.Since(start)})
	}
	return calls, nil
}

// waitReceipts polls the responder's log until it has a receipt for every
// task in ids, and returns the receipts.
func waitReceipts(ctx context.Context, responder *harness.Process, ids []string) (map[string]time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, receiptTimeout)
	defer cancel()
	ticker := time.NewTicker(receiptPollInterval)
	defer ticker.Stop()
	for {
		receipts, err := readLogFileTimes(responder.LogPath, receiptMessage)
		if err != nil {
			return nil, err
		}
		missing := 0
		for _, id := range ids {
			if _, ok := receipts[id]; !ok {
				missing++
			}
		}
		if missing == 0 {
			return receipts, nil
		}
		if responder.Exited() {
			return nil, fmt.Errorf("responder exited with %d of %d assignments not received; see %s", missing, len(ids), responder.LogPath)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%d of %d assignments not received within %v; see %s", missing, len(ids), receiptTimeout, responder.LogPath)
		case <-ticker.C:
		}
	}
}

// waitCompleted polls the task list until every task in ids has
// completed or drainTimeout passes, and returns how many completed and
// how long the wait took. Running out of time is not an error, because
// the count shows it, but a failed task is.
func waitCompleted(ctx context.Context, console *harness.Console, ids []string) (int, time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()

	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	completed := 0
	for {
		// The measured tasks are the newest ones, after the warm-up task.
		tasks, err := console.Tasks(ctx, len(ids)+1)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return completed, time.Since(start), nil
		}
		if err != nil {
			return 0, 0, err
		}
		completed = 0
		for _, task := range tasks {
			if !want[task.ID] {
				continue
			}
			switch task.State {
			case apitypes.TaskCompleted:
				completed++
			case apitypes.TaskFailed:
				return completed, 0, fmt.Errorf("task %s failed; see the responder log", task.ID)
			}
		}
		if completed == len(ids) {
			return completed, time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return completed, time.Since(start), nil
			}
			return completed, 0, ctx.Err()
		case <-ticker.C:
		}
	}
}
