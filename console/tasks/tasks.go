// Package tasks owns tasks and the assignment state machine. Every state
// change of an assignment goes through Service.Transition: responders
// report, the console decides.
//
//	pending -> assigned -> running -> uploading -> completed
//
// failed, cancelled and expired are terminal and reachable from every
// non-terminal state. A responder that reconnects without an assignment it
// had been sent gets it again (Requeue moves it back to assigned).
package tasks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/magpie-ir/magpie/console/dispatch"
	"github.com/magpie-ir/magpie/console/store"
)

// Sentinel errors.
var (
	// ErrInvalidTransition reports a state change the state machine forbids.
	ErrInvalidTransition = errors.New("invalid assignment state transition")
	// ErrNothingToCancel reports a cancellation of a task whose assignments
	// have all ended.
	ErrNothingToCancel = errors.New("no open assignment to cancel")
	// ErrAlreadyRevoked reports a revocation of a revoked responder.
	ErrAlreadyRevoked = errors.New("responder already revoked")
)

// DefaultExpiry is how long an assignment waits for an offline responder.
const DefaultExpiry = 30 * 24 * time.Hour

// Config configures a Service.
type Config struct {
	Store store.Store
	Hub   *dispatch.Hub
	Log   *slog.Logger
	// Expiry is how long an assignment waits for its responder; zero means
	// DefaultExpiry.
	Expiry time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Service creates, advances, cancels and expires tasks.
type Service struct {
	store  store.Store
	hub    *dispatch.Hub
	log    *slog.Logger
	expiry time.Duration
	now    func() time.Time
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, hub: cfg.Hub, log: cfg.Log, expiry: cfg.Expiry, now: cfg.Now}
	if s.expiry <= 0 {
		s.expiry = DefaultExpiry
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// CreateRequest describes a new task.
type CreateRequest struct {
	TriggerName  string
	Profile      string
	Requester    string
	Endpoints    []string
	ResponderIDs []string
}

// Create writes a task with one pending assignment per responder and wakes
// every connected responder at once.
func (s *Service) Create(ctx context.Context, req CreateRequest) (store.Task, []store.Assignment, error) {
	if len(req.ResponderIDs) == 0 {
		return store.Task{}, nil, errors.New("create task: no responders")
	}
	now := s.now().UTC()
	task := store.Task{
		ID:          NewID("t"),
		TriggerName: req.TriggerName,
		Profile:     req.Profile,
		Requester:   req.Requester,
		Endpoints:   req.Endpoints,
		CreatedAt:   now,
		ExpiresAt:   now.Add(s.expiry),
	}
	assignments := make([]store.Assignment, 0, len(req.ResponderIDs))
	for _, rid := range req.ResponderIDs {
		assignments = append(assignments, store.Assignment{
			ID:          NewID("a"),
			TaskID:      task.ID,
			ResponderID: rid,
			State:       store.StatePending,
			CreatedAt:   now,
			UpdatedAt:   now,
			ExpiresAt:   task.ExpiresAt,
		})
	}
	if err := s.store.CreateTask(ctx, task, assignments); err != nil {
		return store.Task{}, nil, fmt.Errorf("create task: %w", err)
	}
	s.audit(ctx, req.Requester, "task.create", task.ID, fmt.Sprintf("profile=%q responders=%d", req.Profile, len(assignments)))

	for _, a := range assignments {
		online := s.hub.Wake(a.ResponderID)
		s.log.Info("assignment created", "task_id", task.ID, "assignment_id", a.ID, "responder_id", a.ResponderID, "responder_online", online)
	}
	return task, assignments, nil
}

// Update carries optional changes that come with a transition.
type Update struct {
	Error          string
	FilesDone      int64
	BytesRead      int64
	EvidencePath   string
	EvidenceSHA256 string
	EvidenceSize   int64
}

// Transition moves an assignment to state to, applying upd. A transition to
// the current non-terminal state only applies upd, so progress reports can
// repeat it.
func (s *Service) Transition(ctx context.Context, assignmentID string, to store.State, upd Update) (store.Assignment, error) {
	var from store.State
	a, err := s.store.UpdateAssignment(ctx, assignmentID, func(a *store.Assignment) error {
		from = a.State
		if !allowed(a.State, to) {
			return fmt.Errorf("%w: %s -> %s", ErrInvalidTransition, a.State, to)
		}
		now := s.now().UTC()
		a.State = to
		a.UpdatedAt = now
		if upd.Error != "" {
			a.Error = upd.Error
		}
		if upd.FilesDone > a.FilesDone {
			a.FilesDone = upd.FilesDone
		}
		if upd.BytesRead > a.BytesRead {
			a.BytesRead = upd.BytesRead
		}
		if upd.EvidencePath != "" {
			a.EvidencePath = upd.EvidencePath
			a.EvidenceSHA256 = upd.EvidenceSHA256
			a.EvidenceSize = upd.EvidenceSize
		}
		if to == store.StateRunning && a.StartedAt.IsZero() {
			a.StartedAt = now
		}
		if to.Terminal() {
			a.FinishedAt = now
		}
		return nil
	})
	if err != nil {
		return store.Assignment{}, fmt.Errorf("assignment %s: %w", assignmentID, err)
	}
	if from != to {
		s.log.Info("assignment state changed", "assignment_id", a.ID, "task_id", a.TaskID, "responder_id", a.ResponderID, "from", from, "to", to, "error", a.Error)
		if to.Terminal() {
			s.audit(ctx, "console", "assignment."+string(to), a.ID, a.Error)
		}
	}
	return a, nil
}

// Requeue moves an assignment the responder lost (it restarted while
// running it) back to assigned, so that it is sent again.
func (s *Service) Requeue(ctx context.Context, assignmentID string) (store.Assignment, error) {
	return s.store.UpdateAssignment(ctx, assignmentID, func(a *store.Assignment) error {
		if a.State.Terminal() {
			return fmt.Errorf("%w: requeue %s assignment", ErrInvalidTransition, a.State)
		}
		a.State = store.StateAssigned
		a.UpdatedAt = s.now().UTC()
		return nil
	})
}

// Cancel cancels every open assignment of a task and sends connected
// responders a cancellation at once. It returns ErrNothingToCancel when no
// assignment was open.
func (s *Service) Cancel(ctx context.Context, taskID, actor string) error {
	assignments, err := s.store.ListAssignments(ctx, taskID)
	if err != nil {
		return fmt.Errorf("cancel task %s: %w", taskID, err)
	}
	reason := "cancelled by " + actor
	cancelled := 0
	for _, a := range assignments {
		if a.State.Terminal() {
			continue
		}
		if _, err := s.Transition(ctx, a.ID, store.StateCancelled, Update{Error: reason}); err != nil {
			if errors.Is(err, ErrInvalidTransition) {
				continue // it finished meanwhile
			}
			return fmt.Errorf("cancel task %s: %w", taskID, err)
		}
		cancelled++
		delivered := s.hub.RequestCancel(a.ResponderID, dispatch.CancelRequest{AssignmentID: a.ID, Reason: reason})
		s.log.Info("assignment cancel sent", "assignment_id", a.ID, "responder_id", a.ResponderID, "delivered", delivered)
	}
	if cancelled == 0 {
		return fmt.Errorf("cancel task %s: %w", taskID, ErrNothingToCancel)
	}
	s.audit(ctx, actor, "task.cancel", taskID, fmt.Sprintf("assignments=%d", cancelled))
	return nil
}

// RevokeResponder cancels the responder's open assignments, marks it
// revoked so that its certificate no longer authenticates, and ends its
// control stream. The responder must enroll again with a new token to
// reconnect. It returns the number of assignments it cancelled.
func (s *Service) RevokeResponder(ctx context.Context, responderID, actor string) (int, error) {
	r, err := s.store.GetResponder(ctx, responderID)
	if err != nil {
		return 0, fmt.Errorf("revoke responder %s: %w", responderID, err)
	}
	if !r.RevokedAt.IsZero() {
		return 0, fmt.Errorf("revoke responder %s: %w at %s", responderID, ErrAlreadyRevoked, r.RevokedAt.Format(time.RFC3339))
	}

	// Mark it revoked first, so that trigger calls stop selecting it before
	// its open assignments are cancelled.
	if err := s.store.RevokeResponder(ctx, responderID, s.now().UTC()); err != nil {
		return 0, fmt.Errorf("revoke responder %s: %w", responderID, err)
	}

	open, err := s.store.OpenAssignments(ctx, responderID, time.Time{})
	if err != nil {
		return 0, fmt.Errorf("revoke responder %s: %w", responderID, err)
	}
	cancelled := 0
	for _, a := range open {
		_, err := s.Transition(ctx, a.ID, store.StateCancelled, Update{Error: "responder revoked by " + actor})
		if errors.Is(err, ErrInvalidTransition) {
			continue // it finished meanwhile
		}
		if err != nil {
			return cancelled, fmt.Errorf("revoke responder %s: %w", responderID, err)
		}
		cancelled++
	}

	connected := s.hub.Revoke(responderID)
	s.log.Info("responder revoked", "responder_id", responderID, "hostname", r.Hostname, "cancelled_assignments", cancelled, "was_connected", connected)
	s.audit(ctx, actor, "responder.revoke", responderID, fmt.Sprintf("hostname=%s cancelled_assignments=%d", r.Hostname, cancelled))
	return cancelled, nil
}

// RunExpiry expires overdue assignments every interval until ctx ends.
func (s *Service) RunExpiry(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		expired, err := s.store.ExpireAssignments(ctx, s.now().UTC())
		if err != nil && ctx.Err() == nil {
			s.log.Error("expire assignments failed", "error", err)
		}
		for _, a := range expired {
			s.log.Info("assignment expired", "assignment_id", a.ID, "task_id", a.TaskID, "responder_id", a.ResponderID)
			s.audit(ctx, "console", "assignment.expired", a.ID, "")
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (s *Service) audit(ctx context.Context, actor, action, target, detail string) {
	err := s.store.AppendAudit(ctx, store.AuditEvent{Time: s.now().UTC(), Actor: actor, Action: action, Target: target, Detail: detail})
	if err != nil {
		s.log.Error("append audit event failed", "action", action, "target", target, "error", err)
	}
}

var order = map[store.State]int{
	store.StatePending:   0,
	store.StateAssigned:  1,
	store.StateRunning:   2,
	store.StateUploading: 3,
	store.StateCompleted: 4,
}

func allowed(from, to store.State) bool {
	if from.Terminal() {
		return false
	}
	if to.Terminal() && to != store.StateCompleted {
		return true
	}
	if to == store.StateCompleted {
		return from == store.StateUploading
	}
	return order[to] >= order[from]
}

// NewID returns a random identifier with a one-letter kind prefix, for
// example "t-3f9c0a1b2c3d4e5f".
func NewID(kind string) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return kind + "-" + hex.EncodeToString(b)
}
