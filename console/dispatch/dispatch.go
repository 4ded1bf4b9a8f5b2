// Package dispatch connects new work to the control streams of connected
// responders. On one console node this is in-process; a multi-node console
// would deliver the same wake-ups over PostgreSQL LISTEN/NOTIFY.
package dispatch

import (
	"sync"
	"sync/atomic"
)

// Hub tracks one Session per connected responder.
type Hub struct {
	mu       sync.Mutex
	sessions map[string]*Session
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{sessions: make(map[string]*Session)}
}

// Session is the console side of one responder's control stream.
type Session struct {
	ResponderID string

	// Wake receives a value when the responder may have new assignments.
	// It has a buffer of one, so wake-ups coalesce and never block.
	Wake chan struct{}
	// Cancel receives the assignments to cancel on the responder.
	Cancel chan CancelRequest
	// Done is closed when the session ends: a newer stream of the same
	// responder replaced it, the responder was revoked, or the stream
	// handler removed it. The stream handler must then end.
	Done chan struct{}

	closeOnce sync.Once
	revoked   atomic.Bool
}

// CancelRequest is a request to stop one assignment on a responder.
type CancelRequest struct {
	AssignmentID string
	Reason       string
}

func (s *Session) close() {
	s.closeOnce.Do(func() { close(s.Done) })
}

// Register adds a session for responderID, ending any older session of the
// same responder. The returned function removes the session; it is safe to
// call more than once.
func (h *Hub) Register(responderID string) (*Session, func()) {
	s := &Session{
		ResponderID: responderID,
		Wake:        make(chan struct{}, 1),
		Cancel:      make(chan CancelRequest, 64),
		Done:        make(chan struct{}),
	}
	s.Wake <- struct{}{}

	h.mu.Lock()
	if old, ok := h.sessions[responderID]; ok {
		old.close()
	}
	h.sessions[responderID] = s
	h.mu.Unlock()

	return s, func() {
		h.mu.Lock()
		if h.sessions[responderID] == s {
			delete(h.sessions, responderID)
		}
		h.mu.Unlock()
		s.close()
	}
}

// Wake signals the responder's session, if connected, to send any new
// assignments. It reports whether the responder is connected.
func (h *Hub) Wake(responderID string) bool {
	h.mu.Lock()
	s, ok := h.sessions[responderID]
	h.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case s.Wake <- struct{}{}:
	default:
	}
	return true
}

// RequestCancel forwards a cancellation to the responder's session. It
// reports whether the request was delivered to a connected session.
func (h *Hub) RequestCancel(responderID string, req CancelRequest) bool {
	h.mu.Lock()
	s, ok := h.sessions[responderID]
	h.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case s.Cancel <- req:
		return true
	case <-s.Done:
		return false
	}
}

// Revoke ends the responder's session, if any, and marks it revoked so
// that the stream handler can report the reason. It reports whether a
// session was connected.
func (h *Hub) Revoke(responderID string) bool {
	h.mu.Lock()
	s, ok := h.sessions[responderID]
	if ok {
		delete(h.sessions, responderID)
	}
	h.mu.Unlock()
	if ok {
		s.revoked.Store(true)
		s.close()
	}
	return ok
}

// Revoked reports whether Hub.Revoke ended the session.
func (s *Session) Revoked() bool { return s.revoked.Load() }

// Online reports whether the responder has a session.
func (h *Hub) Online(responderID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.sessions[responderID]
	return ok
}
