package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/magpie-ir/magpie/console/store"
)

func newAuditEvent(n int, action string) store.AuditEvent {
	return store.AuditEvent{
		Time:   at(n),
		Actor:  "admin-key:k1",
		Action: action,
		Target: "siem",
		Detail: "profile triage",
	}
}

func testAuditNewestFirst(t *testing.T, s store.Store) {
	ctx := t.Context()
	got, err := s.ListAudit(ctx, 10)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("ListAudit on empty store returned %d events", len(got))
	}

	// Appended out of time order, so the list must sort by Time.
	events := []store.AuditEvent{
		newAuditEvent(2, "trigger.create"),
		newAuditEvent(1, "apikey.create"),
		newAuditEvent(3, "trigger.rotate"),
	}
	for _, e := range events {
		must(t, s.AppendAudit(ctx, e))
	}

	got, err = s.ListAudit(ctx, 10)
	must(t, err)
	want := []store.AuditEvent{events[2], events[0], events[1]}
	if d := diff(want, got, cmpopts.IgnoreFields(store.AuditEvent{}, "ID")); d != "" {
		t.Errorf("ListAudit mismatch (-want +got):\n%s", d)
	}

	ids := map[int64]bool{}
	for _, e := range got {
		if e.ID == 0 {
			t.Errorf("event %s has no ID", e.Action)
		}
		if ids[e.ID] {
			t.Errorf("event %s reuses ID %d", e.Action, e.ID)
		}
		ids[e.ID] = true
	}
}

func testAuditLimit(t *testing.T, s store.Store) {
	ctx := t.Context()
	for n := range 5 {
		must(t, s.AppendAudit(ctx, newAuditEvent(n, "task.create")))
	}

	got, err := s.ListAudit(ctx, 2)
	must(t, err)
	if len(got) != 2 {
		t.Fatalf("ListAudit(2) returned %d events, want 2", len(got))
	}
	if !got[0].Time.Equal(at(4)) || !got[1].Time.Equal(at(3)) {
		t.Errorf("ListAudit(2) returned times %v and %v, want %v and %v", got[0].Time, got[1].Time, at(4), at(3))
	}

	got, err = s.ListAudit(ctx, 0)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("ListAudit(0) returned %d events, want 0", len(got))
	}
	if _, err := s.ListAudit(ctx, -1); err == nil {
		t.Error("ListAudit(-1) returned no error")
	}
}
