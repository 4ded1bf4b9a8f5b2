// Package store defines the console's persistent state and the interface that
// every storage backend implements. Callers depend only on Store, so a
// PostgreSQL backend can sit beside the embedded SQLite one without changes
// to the code that uses it.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors returned by every backend. Callers check them with
// errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	ErrExpired  = errors.New("expired")
	ErrUsed     = errors.New("already used")
)

// Store is the console's persistent state. Every method is safe for
// concurrent use.
type Store interface {
	Close() error

	// UpsertResponder inserts r, or updates every field of an existing
	// responder with the same ID except FirstSeen.
	UpsertResponder(ctx context.Context, r Responder) error
	GetResponder(ctx context.Context, id string) (Responder, error)
	// ListResponders returns all responders ordered by hostname, then ID.
	ListResponders(ctx context.Context) ([]Responder, error)
	// SetResponderOnline records a connect (online=true) or disconnect and
	// sets LastSeen to at.
	SetResponderOnline(ctx context.Context, id string, online bool, at time.Time) error
	// MarkAllOffline sets every responder offline; the console calls it on
	// start because no stream survives a restart.
	MarkAllOffline(ctx context.Context) error
	// RevokeResponder sets RevokedAt to at and Online to false. Upserts
	// never clear RevokedAt.
	RevokeResponder(ctx context.Context, id string, at time.Time) error

	CreateEnrollToken(ctx context.Context, t EnrollToken) error
	// ConsumeEnrollToken loads the token with the given ID, calls check with
	// it (check compares the secret in constant time), and when check
	// returns nil records a use by responderID at time at. It returns
	// ErrNotFound, ErrExpired or ErrUsed (single-use token already used)
	// without calling check when those apply.
	ConsumeEnrollToken(ctx context.Context, id string, at time.Time, responderID string, check func(EnrollToken) error) error

	CreateAPIKey(ctx context.Context, k APIKey) error
	GetAPIKey(ctx context.Context, id string) (APIKey, error)
	// TouchAPIKey sets LastUsed.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	CreateTrigger(ctx context.Context, t Trigger) error // ErrConflict on a duplicate name
	GetTrigger(ctx context.Context, name string) (Trigger, error)
	ListTriggers(ctx context.Context) ([]Trigger, error)
	// RotateTriggerToken replaces the token hash and sets RotatedAt.
	RotateTriggerToken(ctx context.Context, name string, tokenHash []byte, at time.Time) error

	// CreateTask writes the task and all its assignments in one transaction.
	CreateTask(ctx context.Context, t Task, as []Assignment) error
	GetTask(ctx context.Context, id string) (Task, error)
	// ListTasks returns the newest tasks first, at most limit of them.
	ListTasks(ctx context.Context, limit int) ([]Task, error)
	// ListAssignments returns the assignments of one task ordered by ID.
	ListAssignments(ctx context.Context, taskID string) ([]Assignment, error)
	GetAssignment(ctx context.Context, id string) (Assignment, error)
	// OpenAssignments returns the responder's assignments in state pending,
	// assigned, running or uploading that expire after now, oldest first.
	OpenAssignments(ctx context.Context, responderID string, now time.Time) ([]Assignment, error)
	// UpdateAssignment loads the assignment, calls mutate on it and writes
	// the result back in one transaction. When mutate returns an error
	// nothing is written and that error is returned.
	UpdateAssignment(ctx context.Context, id string, mutate func(*Assignment) error) (Assignment, error)
	// ExpireAssignments moves every non-terminal assignment whose ExpiresAt
	// is not after now to state expired and returns them.
	ExpireAssignments(ctx context.Context, now time.Time) ([]Assignment, error)

	AppendAudit(ctx context.Context, e AuditEvent) error
	// ListAudit returns the newest events first, at most limit of them.
	ListAudit(ctx context.Context, limit int) ([]AuditEvent, error)
}

// Responder is an enrolled endpoint agent.
type Responder struct {
	ID         string
	Hostname   string // as reported, original case
	FQDN       string // empty when unknown
	IPs        []string
	MACs       []string
	OS         string
	Arch       string
	OSVersion  string
	Version    string // responder version
	CertSerial string // serial of the client certificate issued at enrollment, hex
	FirstSeen  time.Time
	LastSeen   time.Time
	Online     bool
	RevokedAt  time.Time // zero unless revoked; a revoked responder's certificate is rejected
}

// EnrollToken lets one responder (SingleUse) or any number of responders
// until ExpiresAt enroll.
type EnrollToken struct {
	ID         string
	SecretHash []byte // SHA-256 of the secret part
	SingleUse  bool
	CreatedAt  time.Time
	ExpiresAt  time.Time
	CreatedBy  string
	UseCount   int
	LastUsedBy string // responder ID
}

// APIKey authenticates an analyst or integration on the HTTP API.
type APIKey struct {
	ID         string
	Name       string
	SecretHash []byte // SHA-256 of the secret part
	Role       string // "admin" is the only role so far
	CreatedAt  time.Time
	LastUsed   time.Time // zero when never used
}

// Trigger is a named URL that SIEM, SOAR or EDR integrations call.
type Trigger struct {
	Name      string
	Profile   string // acquisition profile name
	Parser    string // "URL" so far
	TokenHash []byte // SHA-256 of the trigger token
	CreatedAt time.Time
	RotatedAt time.Time // zero when never rotated
	CreatedBy string
}

// Task is one request for evidence, fanned out to one Assignment per
// responder.
type Task struct {
	ID          string
	TriggerName string // empty for tasks created through the API
	Profile     string
	Requester   string   // API key name, or "trigger:NAME"
	Endpoints   []string // the endpoint strings as the caller sent them
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// State is an assignment state.
type State string

const (
	StatePending   State = "pending"
	StateAssigned  State = "assigned"
	StateRunning   State = "running"
	StateUploading State = "uploading"
	StateCompleted State = "completed"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
	StateExpired   State = "expired"
)

// Terminal reports whether no further transition leaves s.
func (s State) Terminal() bool {
	switch s {
	case StateCompleted, StateFailed, StateCancelled, StateExpired:
		return true
	}
	return false
}

// Assignment is the part of a task that one responder carries out.
type Assignment struct {
	ID             string
	TaskID         string
	ResponderID    string
	State          State
	Error          string // reason for failure, cancellation or expiry
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ExpiresAt      time.Time
	StartedAt      time.Time // zero until running
	FinishedAt     time.Time // zero until terminal
	FilesDone      int64
	BytesRead      int64
	EvidencePath   string // repository key of the verified package
	EvidenceSHA256 string
	EvidenceSize   int64
}

// AuditEvent records who did what to which object.
type AuditEvent struct {
	ID     int64
	Time   time.Time
	Actor  string // "admin-key:ID", "trigger:NAME", "responder:ID", "console"
	Action string // dotted verb, for example "trigger.rotate"
	Target string // object ID
	Detail string // free text; never a secret
}
