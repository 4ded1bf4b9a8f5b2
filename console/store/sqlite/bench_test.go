package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/magpie-ir/magpie/console/store"
)

// createTask writes task number n with one assignment, as one trigger
// call does.
func createTask(ctx context.Context, s store.Store, n int64) error {
	id := fmt.Sprintf("task-%08d", n)
	task := store.Task{
		ID:          id,
		TriggerName: "siem",
		Profile:     "triage",
		Requester:   "trigger:siem",
		Endpoints:   []string{"web-01"},
		CreatedAt:   testTime,
		ExpiresAt:   testTime.Add(time.Hour),
	}
	a := store.Assignment{
		ID:          id + "-a",
		TaskID:      id,
		ResponderID: "r1",
		State:       store.StatePending,
		CreatedAt:   testTime,
		UpdatedAt:   testTime,
		ExpiresAt:   testTime.Add(time.Hour),
	}
	return s.CreateTask(ctx, task, []store.Assignment{a})
}

// BenchmarkCreateTask measures one trigger call's store cost: a task with
// one assignment, written in one transaction, one caller at a time.
func BenchmarkCreateTask(b *testing.B) {
	s := openBench(b, 1)
	var n int64
	for b.Loop() {
		n++
		if err := createTask(b.Context(), s, n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateTaskParallel compares the single writer connection that
// Open uses with a pool of writer connections that rely on BEGIN IMMEDIATE
// and busy_timeout, under many concurrent callers. Besides the mean cost it
// reports the median, 99th percentile and maximum latency of one call.
func BenchmarkCreateTaskParallel(b *testing.B) {
	for _, conns := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", conns), func(b *testing.B) {
			s := openBench(b, conns)
			var (
				next      atomic.Int64
				mu        sync.Mutex
				latencies []time.Duration
			)
			b.SetParallelism(16) // 16 × GOMAXPROCS goroutines
			b.RunParallel(func(pb *testing.PB) {
				var local []time.Duration
				for pb.Next() {
					start := time.Now()
					if err := createTask(b.Context(), s, next.Add(1)); err != nil {
						b.Error(err)
						return
					}
					local = append(local, time.Since(start))
				}
				mu.Lock()
				latencies = append(latencies, local...)
				mu.Unlock()
			})
			reportLatencies(b, latencies)
		})
	}
}

func reportLatencies(b *testing.B, latencies []time.Duration) {
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	quantile := func(q float64) float64 {
		return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(quantile(0.5), "p50-ms")
	b.ReportMetric(quantile(0.99), "p99-ms")
	b.ReportMetric(quantile(1), "max-ms")
}

// BenchmarkTriggerBurst measures how long 1,000 concurrent CreateTask calls
// take, the load of a burst of trigger calls, for several writer pool sizes.
func BenchmarkTriggerBurst(b *testing.B) {
	for _, conns := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("writers=%d", conns), func(b *testing.B) {
			s := openBench(b, conns)
			var next atomic.Int64
			for b.Loop() {
				if err := createTasksConcurrently(b.Context(), s, &next, 1000); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// createTasksConcurrently runs n createTask calls at once and returns the
// errors joined.
func createTasksConcurrently(ctx context.Context, s store.Store, next *atomic.Int64, n int) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = createTask(ctx, s, next.Add(1))
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func openBench(b *testing.B, writerConns int) *Store {
	b.Helper()
	s, err := open(b.Context(), filepath.Join(b.TempDir(), "magpie.db"), options{writerConns: writerConns})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
