package dispatch

import "testing"

func TestRegisterReplacesOlderSession(t *testing.T) {
	h := NewHub()
	old, removeOld := h.Register("r1")
	current, removeCurrent := h.Register("r1")
	defer removeCurrent()

	select {
	case <-old.Done:
	default:
		t.Fatal("older session not ended by a newer registration")
	}
	removeOld()
	if !h.Online("r1") {
		t.Fatal("removing the older session took the newer one offline")
	}
	select {
	case <-current.Done:
		t.Fatal("current session ended")
	default:
	}
}

func TestWakeCoalesces(t *testing.T) {
	h := NewHub()
	s, remove := h.Register("r1")
	defer remove()
	<-s.Wake // the wake-up every new session starts with

	for range 3 {
		if !h.Wake("r1") {
			t.Fatal("Wake reported a registered responder as offline")
		}
	}
	<-s.Wake
	select {
	case <-s.Wake:
		t.Fatal("three wake-ups were not coalesced into one")
	default:
	}
	if h.Wake("r2") {
		t.Fatal("Wake reported an unknown responder as online")
	}
}

func TestRequestCancelDelivers(t *testing.T) {
	h := NewHub()
	s, remove := h.Register("r1")
	if !h.RequestCancel("r1", CancelRequest{AssignmentID: "a1"}) {
		t.Fatal("cancel not delivered to a connected responder")
	}
	if got := <-s.Cancel; got.AssignmentID != "a1" {
		t.Fatalf("cancel for %q, want a1", got.AssignmentID)
	}
	remove()
	if h.RequestCancel("r1", CancelRequest{AssignmentID: "a2"}) {
		t.Fatal("cancel reported delivered to a disconnected responder")
	}
}
