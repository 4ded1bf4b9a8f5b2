// Package apitypes holds the JSON bodies of the console's HTTP API. The
// console's handlers and the analyst CLI both use these types, so the two
// cannot drift apart.
//
// Routes (all under HTTPS, all but the trigger route authenticated with
// "Authorization: Bearer API_KEY"):
//
//	POST /api/v1/enrollment-tokens         CreateEnrollTokenRequest -> EnrollToken
//	GET  /api/v1/responders                -> ResponderList
//	DELETE /api/v1/responders/{id}         -> RevokeResult
//	POST /api/v1/triggers                  CreateTriggerRequest -> TriggerWithToken
//	GET  /api/v1/triggers                  -> TriggerList
//	POST /api/v1/triggers/{name}/rotate    -> TriggerWithToken
//	GET  /api/v1/tasks?limit=N             -> TaskList
//	GET  /api/v1/tasks/{id}                -> Task
//	POST /api/v1/tasks/{id}/cancel         -> Task
//	GET  /api/v1/assignments/{id}/evidence -> package bytes (application/zstd),
//	                                          header X-Magpie-Sha256
//	GET  /api/v1/audit?limit=N             -> AuditList
//	GET  /api/trigger/{name}/{endpoints}?token=TOKEN -> TriggerReply
//
// Every error reply is an Error with a matching HTTP status.
package apitypes

import "time"

// Error is the body of every non-2xx reply of the /api/v1 routes.
type Error struct {
	Error string `json:"error"`
}

// SHA256Header carries the evidence package's SHA-256 (lowercase hex) on
// an evidence download.
const SHA256Header = "X-Magpie-Sha256"

type CreateEnrollTokenRequest struct {
	// TTL is a Go duration ("24h"); empty means the console default.
	TTL string `json:"ttl,omitempty"`
	// SingleUse makes the token valid for one enrollment only.
	SingleUse bool `json:"single_use"`
}

type EnrollToken struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	SingleUse bool      `json:"single_use"`
}

type Responder struct {
	ID        string    `json:"id"`
	Hostname  string    `json:"hostname"`
	FQDN      string    `json:"fqdn,omitempty"`
	IPs       []string  `json:"ips"`
	MACs      []string  `json:"macs"`
	OS        string    `json:"os"`
	Arch      string    `json:"arch"`
	OSVersion string    `json:"os_version,omitempty"`
	Version   string    `json:"version"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Online    bool      `json:"online"`
	// RevokedAt is set once the responder was revoked; its certificate is
	// then rejected.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// RevokeResult is the reply to a responder revocation.
type RevokeResult struct {
	ResponderID          string `json:"responder_id"`
	CancelledAssignments int    `json:"cancelled_assignments"`
}

type ResponderList struct {
	Responders []Responder `json:"responders"`
}

type CreateTriggerRequest struct {
	Name    string `json:"name"`
	Profile string `json:"profile"`
}

type Trigger struct {
	Name      string    `json:"name"`
	Profile   string    `json:"profile"`
	Parser    string    `json:"parser"`
	CreatedAt time.Time `json:"created_at"`
	RotatedAt time.Time `json:"rotated_at,omitzero"`
}

// TriggerWithToken is returned once, when a trigger is created or its token
// rotated; the console keeps only a hash of the token.
type TriggerWithToken struct {
	Trigger
	Token string `json:"token"`
	// URL is the trigger URL with the token and an {endpoint} placeholder.
	URL string `json:"url"`
}

type TriggerList struct {
	Triggers []Trigger `json:"triggers"`
}

type Evidence struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

type Assignment struct {
	ID          string    `json:"id"`
	ResponderID string    `json:"responder_id"`
	Hostname    string    `json:"hostname"`
	State       string    `json:"state"`
	Error       string    `json:"error,omitempty"`
	FilesDone   int64     `json:"files_done"`
	BytesRead   int64     `json:"bytes_read"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	StartedAt   time.Time `json:"started_at,omitzero"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`
	Evidence    *Evidence `json:"evidence,omitempty"`
}

// Task states, derived from the assignments: "completed" when every
// assignment completed, "cancelled" when every assignment was cancelled,
// "failed" when all are terminal and any other mix, otherwise "open".
const (
	TaskOpen      = "open"
	TaskCompleted = "completed"
	TaskCancelled = "cancelled"
	TaskFailed    = "failed"
)

type Task struct {
	ID          string       `json:"id"`
	Trigger     string       `json:"trigger,omitempty"`
	Profile     string       `json:"profile"`
	Requester   string       `json:"requester"`
	Endpoints   []string     `json:"endpoints"`
	State       string       `json:"state"`
	CreatedAt   time.Time    `json:"created_at"`
	ExpiresAt   time.Time    `json:"expires_at"`
	Assignments []Assignment `json:"assignments"`
}

type TaskList struct {
	Tasks []Task `json:"tasks"`
}

type AuditEvent struct {
	ID     int64     `json:"id"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"`
}

type AuditList struct {
	Events []AuditEvent `json:"events"`
}

// TriggerReply is the body of every trigger call reply. Its shape follows
// what SIEM integrations of Binalyze AIR's URL parser expect, extended with
// taskId and notFound.
type TriggerReply struct {
	Success bool          `json:"success"`
	Data    *TriggerData  `json:"data,omitempty"`
	Error   *TriggerError `json:"error,omitempty"`
}

type TriggerData struct {
	Parser             string   `json:"parser"`
	AcquisitionProfile string   `json:"acquisitionProfile"`
	Endpoints          []string `json:"endpoints"`
	TaskID             string   `json:"taskId"`
	NotFound           []string `json:"notFound"`
}

// TriggerError explains a rejected trigger call. Candidates lists the
// responders an ambiguous short name matched.
type TriggerError struct {
	Message    string   `json:"message"`
	NotFound   []string `json:"notFound,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
}
