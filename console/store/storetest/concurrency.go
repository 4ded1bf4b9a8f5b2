package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/magpie-ir/magpie/console/store"
)

// workers is the number of goroutines in the concurrency tests.
const workers = 50

// testConcurrentTasksAndUpdates runs what a busy console does at once:
// triggers create tasks while responders report progress and the console
// reads and audits. Every call must succeed.
func testConcurrentTasksAndUpdates(t *testing.T, s store.Store) {
	ctx := t.Context()
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			errs[i] = runWorker(t, s, i)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}

	tasks, err := s.ListTasks(ctx, 2*workers)
	must(t, err)
	if len(tasks) != workers {
		t.Errorf("ListTasks returned %d tasks, want %d", len(tasks), workers)
	}
	for i := range workers {
		as, err := s.ListAssignments(ctx, fmt.Sprintf("t%02d", i))
		must(t, err)
		for _, a := range as {
			if a.State != store.StateCompleted || a.FilesDone != 3 {
				t.Errorf("%s: state %s with %d files, want completed with 3", a.ID, a.State, a.FilesDone)
			}
		}
	}
}

// runWorker creates one task with two assignments and takes both through
// running to completed.
func runWorker(t *testing.T, s store.Store, i int) error {
	ctx := t.Context()
	taskID := fmt.Sprintf("t%02d", i)
	as := []store.Assignment{
		newAssignment(taskID+"-a", taskID, fmt.Sprintf("r%02d", i), i),
		newAssignment(taskID+"-b", taskID, fmt.Sprintf("r%02d", i+workers), i),
	}
	if err := s.CreateTask(ctx, newTask(taskID, i), as); err != nil {
		return err
	}

	for _, a := range as {
		for step := 1; step <= 3; step++ {
			_, err := s.UpdateAssignment(ctx, a.ID, func(cur *store.Assignment) error {
				cur.State = store.StateRunning
				cur.FilesDone = int64(step)
				cur.UpdatedAt = at(i + step)
				return nil
			})
			if err != nil {
				return err
			}
		}
		_, err := s.UpdateAssignment(ctx, a.ID, func(cur *store.Assignment) error {
			cur.State = store.StateCompleted
			cur.FinishedAt = at(i + 4)
			return nil
		})
		if err != nil {
			return err
		}
		if _, err := s.OpenAssignments(ctx, a.ResponderID, at(i)); err != nil {
			return err
		}
	}

	if _, err := s.GetTask(ctx, taskID); err != nil {
		return err
	}
	return s.AppendAudit(ctx, newAuditEvent(i, "task.create"))
}

// testConcurrentUpdatesSerialize checks that UpdateAssignment is atomic:
// concurrent increments of one counter must all survive.
func testConcurrentUpdatesSerialize(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateTask(ctx, newTask("t1", 0), []store.Assignment{newAssignment("a1", "t1", "r1", 0)}))

	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			_, errs[i] = s.UpdateAssignment(ctx, "a1", func(cur *store.Assignment) error {
				cur.FilesDone++
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}

	got, err := s.GetAssignment(ctx, "a1")
	must(t, err)
	if got.FilesDone != workers {
		t.Errorf("FilesDone = %d after %d concurrent increments", got.FilesDone, workers)
	}
}
