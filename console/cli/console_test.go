package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/magpie-ir/magpie/console/apitypes"
)

const testAPIKey = "mgp_test_4f1c9a7e2b"

// fakeConsole serves the /api/v1 routes the CLI calls over real HTTPS on
// loopback, from in-memory state that each test fills in.
type fakeConsole struct {
	srv    *httptest.Server
	caFile string // PEM file of the server's self-signed certificate

	mu          sync.Mutex
	enrollReqs  []apitypes.CreateEnrollTokenRequest
	responders  []apitypes.Responder
	triggers    []apitypes.Trigger
	taskList    []apitypes.Task
	taskPolls   map[string][]apitypes.Task // served in order, the last one repeats
	polls       map[string]int
	packages    map[string][]byte // assignment ID -> evidence package
	headerSHA   map[string]string // assignment ID -> X-Magpie-Sha256 to send instead of the real hash
	audit       []apitypes.AuditEvent
	queries     []string // raw query of every list request
	authHeaders []string
	requests    []string // "METHOD PATH" of every request
}

func newFakeConsole(t *testing.T) *fakeConsole {
	t.Helper()
	fc := &fakeConsole{
		taskPolls: make(map[string][]apitypes.Task),
		polls:     make(map[string]int),
		packages:  make(map[string][]byte),
		headerSHA: make(map[string]string),
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/enrollment-tokens", fc.createEnrollToken)
	mux.HandleFunc("GET /api/v1/responders", fc.listResponders)
	mux.HandleFunc("POST /api/v1/triggers", fc.createTrigger)
	mux.HandleFunc("GET /api/v1/triggers", fc.listTriggers)
	mux.HandleFunc("POST /api/v1/triggers/{name}/rotate", fc.rotateTrigger)
	mux.HandleFunc("GET /api/v1/tasks", fc.listTasks)
	mux.HandleFunc("GET /api/v1/tasks/{id}", fc.getTask)
	mux.HandleFunc("POST /api/v1/tasks/{id}/cancel", fc.cancelTask)
	mux.HandleFunc("GET /api/v1/assignments/{id}/evidence", fc.getEvidence)
	mux.HandleFunc("GET /api/v1/audit", fc.listAudit)

	fc.srv = httptest.NewTLSServer(fc.authenticate(mux))
	t.Cleanup(fc.srv.Close)
	fc.caFile = writeCertPEM(t, fc.srv.Certificate().Raw)
	return fc
}

// env returns the environment variables that point the CLI at fc.
func (fc *fakeConsole) env() map[string]string {
	return map[string]string{
		envConsole: fc.srv.URL,
		envAPIKey:  testAPIKey,
		envCA:      fc.caFile,
	}
}

func (fc *fakeConsole) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fc.mu.Lock()
		fc.authHeaders = append(fc.authHeaders, r.Header.Get("Authorization"))
		fc.requests = append(fc.requests, r.Method+" "+r.URL.Path)
		fc.mu.Unlock()

		if r.Header.Get("Authorization") != "Bearer "+testAPIKey {
			replyError(w, http.StatusUnauthorized, "invalid API key")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func replyJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func replyError(w http.ResponseWriter, status int, msg string) {
	replyJSON(w, status, apitypes.Error{Error: msg})
}

func (fc *fakeConsole) createEnrollToken(w http.ResponseWriter, r *http.Request) {
	var req apitypes.CreateEnrollTokenRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		replyError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	ttl := 24 * time.Hour
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil {
			replyError(w, http.StatusBadRequest, fmt.Sprintf("invalid ttl %q", req.TTL))
			return
		}
		ttl = d
	}
	fc.mu.Lock()
	fc.enrollReqs = append(fc.enrollReqs, req)
	fc.mu.Unlock()

	replyJSON(w, http.StatusCreated, apitypes.EnrollToken{
		Token:     "enr_8d2f0c61a9b34e7d",
		ExpiresAt: time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC).Add(ttl),
		SingleUse: req.SingleUse,
	})
}

func (fc *fakeConsole) listResponders(w http.ResponseWriter, r *http.Request) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	replyJSON(w, http.StatusOK, apitypes.ResponderList{Responders: fc.responders})
}

func (fc *fakeConsole) createTrigger(w http.ResponseWriter, r *http.Request) {
	var req apitypes.CreateTriggerRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		replyError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}

	fc.mu.Lock()
	defer fc.mu.Unlock()
	for _, tr := range fc.triggers {
		if tr.Name == req.Name {
			replyError(w, http.StatusConflict, fmt.Sprintf("trigger %q already exists", req.Name))
			return
		}
	}
	tr := apitypes.Trigger{
		Name:      req.Name,
		Profile:   req.Profile,
		Parser:    "magpie",
		CreatedAt: time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC),
	}
	fc.triggers = append(fc.triggers, tr)
	replyJSON(w, http.StatusCreated, fc.withToken(tr, "trg_first"))
}

func (fc *fakeConsole) withToken(tr apitypes.Trigger, token string) apitypes.TriggerWithToken {
	return apitypes.TriggerWithToken{
		Trigger: tr,
		Token:   token,
		URL:     fc.srv.URL + "/api/trigger/" + tr.Name + "/{endpoint}?token=" + token,
	}
}

func (fc *fakeConsole) listTriggers(w http.ResponseWriter, r *http.Request) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	replyJSON(w, http.StatusOK, apitypes.TriggerList{Triggers: fc.triggers})
}

func (fc *fakeConsole) rotateTrigger(w http.ResponseWriter, r *http.Request) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	name := r.PathValue("name")
	for i, tr := range fc.triggers {
		if tr.Name == name {
			fc.triggers[i].RotatedAt = time.Date(2031, 5, 2, 8, 30, 0, 0, time.UTC)
			replyJSON(w, http.StatusOK, fc.withToken(fc.triggers[i], "trg_rotated"))
			return
		}
	}
	replyError(w, http.StatusNotFound, fmt.Sprintf("trigger %q not found", name))
}

func (fc *fakeConsole) listTasks(w http.ResponseWriter, r *http.Request) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.queries = append(fc.queries, r.URL.RawQuery)
	tasks := fc.taskList
	if limit, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && limit < len(tasks) {
		tasks = tasks[:limit]
	}
	replyJSON(w, http.StatusOK, apitypes.TaskList{Tasks: tasks})
}

// addTask registers the snapshots GET /api/v1/tasks/{id} returns on
// successive polls. A snapshot with an empty ID is served as a 503 reply.
func (fc *fakeConsole) addTask(snapshots ...apitypes.Task) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.taskPolls[snapshots[0].ID] = snapshots
}

func (fc *fakeConsole) getTask(w http.ResponseWriter, r *http.Request) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	id := r.PathValue("id")
	snapshots, ok := fc.taskPolls[id]
	if !ok {
		replyError(w, http.StatusNotFound, fmt.Sprintf("task %q not found", id))
		return
	}
	n := min(fc.polls[id], len(snapshots)-1)
	fc.polls[id]++
	if snapshots[n].ID == "" {
		replyError(w, http.StatusServiceUnavailable, "console is shutting down")
		return
	}
	replyJSON(w, http.StatusOK, snapshots[n])
}

func (fc *fakeConsole) cancelTask(w http.ResponseWriter, r *http.Request) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	id := r.PathValue("id")
	snapshots, ok := fc.taskPolls[id]
	if !ok {
		replyError(w, http.StatusNotFound, fmt.Sprintf("task %q not found", id))
		return
	}
	task := snapshots[len(snapshots)-1]
	task.Assignments = append([]apitypes.Assignment(nil), task.Assignments...)
	// As on the console: "cancelled" when every assignment was cancelled,
	// "failed" when some had completed before.
	task.State = apitypes.TaskCancelled
	for i := range task.Assignments {
		if task.Assignments[i].State == assignmentCompleted {
			task.State = apitypes.TaskFailed
			continue
		}
		task.Assignments[i].State = "cancelled"
		task.Assignments[i].Error = "cancelled by analyst"
	}
	fc.taskPolls[id] = []apitypes.Task{task}
	replyJSON(w, http.StatusOK, task)
}

func (fc *fakeConsole) getEvidence(w http.ResponseWriter, r *http.Request) {
	fc.mu.Lock()
	id := r.PathValue("id")
	data, ok := fc.packages[id]
	header, override := fc.headerSHA[id]
	fc.mu.Unlock()

	if !ok {
		replyError(w, http.StatusNotFound, fmt.Sprintf("assignment %q has no evidence", id))
		return
	}
	if !override {
		header = sha256Hex(data)
	}
	w.Header().Set("Content-Type", "application/zstd")
	w.Header().Set(apitypes.SHA256Header, header)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

func (fc *fakeConsole) listAudit(w http.ResponseWriter, r *http.Request) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.queries = append(fc.queries, r.URL.RawQuery)
	replyJSON(w, http.StatusOK, apitypes.AuditList{Events: fc.audit})
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func writeCertPEM(t *testing.T, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// result is the outcome of one CLI run.
type result struct {
	stdout string
	stderr string
	code   int
}

// evidenceRequests returns the evidence download requests fc received.
func (fc *fakeConsole) evidenceRequests() []string {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	var found []string
	for _, r := range fc.requests {
		if strings.HasSuffix(r, "/evidence") {
			found = append(found, r)
		}
	}
	return found
}

// runCLI runs the CLI with args and env as its whole environment.
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := &app{
		stdout: &stdout,
		stderr: &stderr,
		getenv: func(k string) string { return env[k] },
	}
	code := a.main(context.Background(), args)
	res := result{stdout: stdout.String(), stderr: stderr.String(), code: code}
	if strings.Contains(res.stdout+res.stderr, testAPIKey) {
		t.Errorf("magpie %s printed the API key:\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.stdout, res.stderr)
	}
	return res
}

// jsonLine returns v as the --json flags print it.
func jsonLine(t *testing.T, v any) string {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data) + "\n"
}
