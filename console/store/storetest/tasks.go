package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/magpie-ir/magpie/console/store"
)

// newTask returns a task created at minute n that expires an hour later.
func newTask(id string, n int) store.Task {
	return store.Task{
		ID:          id,
		TriggerName: "siem",
		Profile:     "triage",
		Requester:   "trigger:siem",
		Endpoints:   []string{"web-01", "10.0.0.7"},
		CreatedAt:   at(n),
		ExpiresAt:   at(n + 60),
	}
}

// newAssignment returns a pending assignment of the task that expires an
// hour after minute n.
func newAssignment(id, taskID, responderID string, n int) store.Assignment {
	return store.Assignment{
		ID:          id,
		TaskID:      taskID,
		ResponderID: responderID,
		State:       store.StatePending,
		CreatedAt:   at(n),
		UpdatedAt:   at(n),
		ExpiresAt:   at(n + 60),
	}
}

func testTaskRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	task := newTask("t1", 0)
	done := newAssignment("a1", "t1", "r1", 0)
	done.State = store.StateCompleted
	done.StartedAt = at(1)
	done.FinishedAt = at(2)
	done.FilesDone = 42
	done.BytesRead = 1 << 40
	done.EvidencePath = "2026/03/01/t1/a1.zip"
	done.EvidenceSHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	done.EvidenceSize = 123456789
	// Created out of order, so ListAssignments must sort by ID.
	as := []store.Assignment{newAssignment("a3", "t1", "r3", 0), done, newAssignment("a2", "t1", "r2", 0)}
	must(t, s.CreateTask(ctx, task, as))

	got, err := s.GetTask(ctx, "t1")
	must(t, err)
	if d := diff(task, got); d != "" {
		t.Errorf("GetTask mismatch (-want +got):\n%s", d)
	}

	list, err := s.ListAssignments(ctx, "t1")
	must(t, err)
	want := []store.Assignment{as[1], as[2], as[0]}
	if d := diff(want, list); d != "" {
		t.Errorf("ListAssignments mismatch (-want +got):\n%s", d)
	}

	one, err := s.GetAssignment(ctx, "a1")
	must(t, err)
	if d := diff(done, one); d != "" {
		t.Errorf("GetAssignment mismatch (-want +got):\n%s", d)
	}

	apiTask := store.Task{ID: "t2", Profile: "triage", Requester: "soar", CreatedAt: at(1), ExpiresAt: at(61)}
	must(t, s.CreateTask(ctx, apiTask, nil))
	got, err = s.GetTask(ctx, "t2")
	must(t, err)
	if d := diff(apiTask, got); d != "" {
		t.Errorf("GetTask of a task without trigger or assignments mismatch (-want +got):\n%s", d)
	}
	list, err = s.ListAssignments(ctx, "t2")
	must(t, err)
	if len(list) != 0 {
		t.Errorf("ListAssignments of a task without assignments returned %d", len(list))
	}
}

func testTaskConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateTask(ctx, newTask("t1", 0), nil))
	err := s.CreateTask(ctx, newTask("t1", 1), nil)
	wantErr(t, err, store.ErrConflict)
}

func testAssignmentConflictWritesNothing(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateTask(ctx, newTask("t1", 0), []store.Assignment{newAssignment("a1", "t1", "r1", 0)}))

	// a1 exists already, so CreateTask must fail and leave no trace of t2.
	err := s.CreateTask(ctx, newTask("t2", 1), []store.Assignment{
		newAssignment("a2", "t2", "r2", 1),
		newAssignment("a1", "t2", "r1", 1),
	})
	wantErr(t, err, store.ErrConflict)

	_, err = s.GetTask(ctx, "t2")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetAssignment(ctx, "a2")
	wantErr(t, err, store.ErrNotFound)
}

func testTaskNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetTask(ctx, "missing")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetAssignment(ctx, "missing")
	wantErr(t, err, store.ErrNotFound)

	list, err := s.ListAssignments(ctx, "missing")
	must(t, err)
	if len(list) != 0 {
		t.Errorf("ListAssignments of a missing task returned %d assignments", len(list))
	}
}

func testListTasksNewestFirst(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, n := range []int{3, 1, 4, 0, 2} {
		must(t, s.CreateTask(ctx, newTask(string(rune('a'+i)), n), nil))
	}

	got, err := s.ListTasks(ctx, 3)
	must(t, err)
	want := []store.Task{newTask("c", 4), newTask("a", 3), newTask("e", 2)}
	if d := diff(want, got); d != "" {
		t.Errorf("ListTasks(3) mismatch (-want +got):\n%s", d)
	}

	got, err = s.ListTasks(ctx, 100)
	must(t, err)
	if len(got) != 5 {
		t.Errorf("ListTasks(100) returned %d tasks, want all 5", len(got))
	}
}

func testListTasksLimit(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateTask(ctx, newTask("t1", 0), nil))

	got, err := s.ListTasks(ctx, 0)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("ListTasks(0) returned %d tasks, want 0", len(got))
	}
	if _, err := s.ListTasks(ctx, -1); err == nil {
		t.Error("ListTasks(-1) returned no error")
	}
}

func testOpenAssignments(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(30)

	running := newAssignment("a1", "t1", "r1", 2)
	running.State = store.StateRunning
	assigned := newAssignment("a2", "t1", "r1", 1)
	assigned.State = store.StateAssigned
	uploading := newAssignment("a3", "t1", "r1", 3)
	uploading.State = store.StateUploading
	pending := newAssignment("a4", "t1", "r1", 1) // same CreatedAt as a2, so ID decides
	completed := newAssignment("a5", "t1", "r1", 0)
	completed.State = store.StateCompleted
	due := newAssignment("a6", "t1", "r1", 0)
	due.ExpiresAt = now // expires at now, so no longer open
	other := newAssignment("a7", "t1", "r2", 0)
	must(t, s.CreateTask(ctx, newTask("t1", 0), []store.Assignment{
		running, assigned, uploading, pending, completed, due, other,
	}))

	got, err := s.OpenAssignments(ctx, "r1", now)
	must(t, err)
	want := []store.Assignment{assigned, pending, running, uploading}
	if d := diff(want, got); d != "" {
		t.Errorf("OpenAssignments mismatch (-want +got):\n%s", d)
	}

	got, err = s.OpenAssignments(ctx, "r9", now)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("OpenAssignments of a responder without assignments returned %d", len(got))
	}
}

func testUpdateAssignment(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAssignment("a1", "t1", "r1", 0)
	must(t, s.CreateTask(ctx, newTask("t1", 0), []store.Assignment{a}))

	want := a
	want.State = store.StateCompleted
	want.Error = ""
	want.UpdatedAt = at(5)
	want.ExpiresAt = at(90)
	want.StartedAt = at(1)
	want.FinishedAt = at(5)
	want.FilesDone = 17
	want.BytesRead = 4096
	want.EvidencePath = "t1/a1.zip"
	want.EvidenceSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	want.EvidenceSize = 2048

	var seen store.Assignment
	got, err := s.UpdateAssignment(ctx, "a1", func(cur *store.Assignment) error {
		seen = *cur
		*cur = want
		return nil
	})
	must(t, err)
	if d := diff(a, seen); d != "" {
		t.Errorf("assignment passed to mutate (-want +got):\n%s", d)
	}
	if d := diff(want, got); d != "" {
		t.Errorf("UpdateAssignment result (-want +got):\n%s", d)
	}

	stored, err := s.GetAssignment(ctx, "a1")
	must(t, err)
	if d := diff(want, stored); d != "" {
		t.Errorf("GetAssignment after update (-want +got):\n%s", d)
	}
}

func testUpdateAssignmentNotFound(t *testing.T, s store.Store) {
	called := false
	_, err := s.UpdateAssignment(t.Context(), "missing", func(*store.Assignment) error {
		called = true
		return nil
	})
	wantErr(t, err, store.ErrNotFound)
	if called {
		t.Error("mutate was called for a missing assignment")
	}
}

func testUpdateAssignmentMutateFails(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAssignment("a1", "t1", "r1", 0)
	must(t, s.CreateTask(ctx, newTask("t1", 0), []store.Assignment{a}))

	errBadTransition := errors.New("bad transition")
	_, err := s.UpdateAssignment(ctx, "a1", func(cur *store.Assignment) error {
		cur.State = store.StateFailed
		cur.Error = "should not be written"
		return errBadTransition
	})
	wantErr(t, err, errBadTransition)

	got, err := s.GetAssignment(ctx, "a1")
	must(t, err)
	if d := diff(a, got); d != "" {
		t.Errorf("assignment changed although mutate failed (-want +got):\n%s", d)
	}
}

func testExpireAssignments(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(100)

	var as []store.Assignment
	states := []store.State{
		store.StatePending, store.StateAssigned, store.StateRunning, store.StateUploading,
		store.StateCompleted, store.StateFailed, store.StateCancelled, store.StateExpired,
	}
	for i, st := range states {
		due := newAssignment("due-"+string(st), "t1", "r1", 0)
		due.State = st
		due.ExpiresAt = now.Add(-time.Duration(i) * time.Minute) // the first one exactly at now
		later := newAssignment("later-"+string(st), "t1", "r1", 0)
		later.State = st
		later.ExpiresAt = now.Add(time.Millisecond)
		as = append(as, due, later)
	}
	must(t, s.CreateTask(ctx, newTask("t1", 0), as))

	got, err := s.ExpireAssignments(ctx, now)
	must(t, err)
	wantIDs := map[string]bool{"due-pending": true, "due-assigned": true, "due-running": true, "due-uploading": true}
	if len(got) != len(wantIDs) {
		t.Errorf("ExpireAssignments returned %d assignments, want %d", len(got), len(wantIDs))
	}
	for _, a := range got {
		if !wantIDs[a.ID] {
			t.Errorf("ExpireAssignments returned %s, which was not due or was terminal", a.ID)
		}
		stored, err := s.GetAssignment(ctx, a.ID)
		must(t, err)
		if d := diff(stored, a); d != "" {
			t.Errorf("returned %s differs from the stored one (-stored +returned):\n%s", a.ID, d)
		}
		if stored.State != store.StateExpired {
			t.Errorf("%s state = %s, want expired", a.ID, stored.State)
		}
		if stored.Error == "" {
			t.Errorf("%s has no error text", a.ID)
		}
		if !stored.FinishedAt.Equal(now) {
			t.Errorf("%s FinishedAt = %v, want %v", a.ID, stored.FinishedAt, now)
		}
	}

	// Everything else is untouched.
	for _, a := range as {
		if wantIDs[a.ID] {
			continue
		}
		stored, err := s.GetAssignment(ctx, a.ID)
		must(t, err)
		if d := diff(a, stored); d != "" {
			t.Errorf("%s changed (-want +got):\n%s", a.ID, d)
		}
	}

	again, err := s.ExpireAssignments(ctx, now)
	must(t, err)
	if len(again) != 0 {
		t.Errorf("second ExpireAssignments returned %d assignments, want 0", len(again))
	}
}
