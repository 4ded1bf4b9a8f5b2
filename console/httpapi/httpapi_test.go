package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/magpie-ir/magpie/collectors/profile"
	"github.com/magpie-ir/magpie/console/apitypes"
	"github.com/magpie-ir/magpie/console/auth"
	"github.com/magpie-ir/magpie/console/dispatch"
	"github.com/magpie-ir/magpie/console/repository"
	"github.com/magpie-ir/magpie/console/store"
	"github.com/magpie-ir/magpie/console/store/sqlite"
	"github.com/magpie-ir/magpie/console/tasks"
)

type testAPI struct {
	srv    *httptest.Server
	store  store.Store
	hub    *dispatch.Hub
	key    string
	logBuf *bytes.Buffer
}

func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "magpie.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	repo, err := repository.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	profiles, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	hub := dispatch.NewHub()
	h := New(Config{
		Store: st, Hub: hub, Repository: repo, Profiles: profiles, Log: log,
		Tasks:     tasks.New(tasks.Config{Store: st, Hub: hub, Log: log}),
		PublicURL: "https://console.test",
	})
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)

	tok := auth.NewToken(APIKeyPrefix)
	if err := st.CreateAPIKey(ctx, store.APIKey{ID: tok.ID, Name: "test", SecretHash: auth.Hash(tok.Secret), Role: "admin", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return &testAPI{srv: srv, store: st, hub: hub, key: tok.String(), logBuf: &logBuf}
}

func (a *testAPI) do(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	resp, err := a.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode reply: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

func (a *testAPI) addResponder(t *testing.T, id, hostname, fqdn string, ips ...string) {
	t.Helper()
	now := time.Now().UTC()
	if err := a.store.UpsertResponder(context.Background(), store.Responder{ID: id, Hostname: hostname, FQDN: fqdn, IPs: ips, FirstSeen: now, LastSeen: now}); err != nil {
		t.Fatal(err)
	}
}

func (a *testAPI) createTrigger(t *testing.T, name string) apitypes.TriggerWithToken {
	t.Helper()
	var tr apitypes.TriggerWithToken
	if code := a.do(t, "POST", "/api/v1/triggers", apitypes.CreateTriggerRequest{Name: name, Profile: "browsing history"}, &tr); code != http.StatusCreated {
		t.Fatalf("create trigger: status %d", code)
	}
	return tr
}

func (a *testAPI) call(t *testing.T, trigger, endpoints, token string) (int, apitypes.TriggerReply) {
	t.Helper()
	resp, err := a.srv.Client().Get(a.srv.URL + "/api/trigger/" + trigger + "/" + endpoints + "?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reply apitypes.TriggerReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, reply
}

func (a *testAPI) taskCount(t *testing.T) int {
	t.Helper()
	list, err := a.store.ListTasks(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func TestTriggerReplies(t *testing.T) {
	a := newTestAPI(t)
	a.addResponder(t, "r-1", "WS-0042", "ws-0042.corp.example", "10.0.0.42")
	a.addResponder(t, "r-2", "dup", "dup.a.example")
	a.addResponder(t, "r-3", "dup", "dup.b.example")
	tr := a.createTrigger(t, "siem")
	if tr.Profile != "Browsing History" || !strings.Contains(tr.URL, "/api/trigger/siem/{endpoint}?token=") {
		t.Fatalf("created trigger = %+v, want canonical profile name and a URL with {endpoint}", tr)
	}

	tests := []struct {
		name      string
		trigger   string
		endpoints string
		token     string
		status    int
		tasks     int
	}{
		{"match by short name", "siem", "ws-0042", tr.Token, http.StatusOK, 1},
		{"match by ip and fqdn", "siem", "10.0.0.42,WS-0042.corp.example.", tr.Token, http.StatusOK, 1},
		{"partial match", "siem", "ws-0042,ghost", tr.Token, http.StatusOK, 1},
		{"wrong token", "siem", "ws-0042", "nope", http.StatusUnauthorized, 0},
		{"missing token", "siem", "ws-0042", "", http.StatusUnauthorized, 0},
		{"unknown trigger", "other", "ws-0042", tr.Token, http.StatusNotFound, 0},
		{"nothing matched", "siem", "ghost", tr.Token, http.StatusNotFound, 0},
		{"ambiguous", "siem", "dup,ws-0042", tr.Token, http.StatusConflict, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := a.taskCount(t)
			status, reply := a.call(t, tt.trigger, tt.endpoints, tt.token)
			if status != tt.status {
				t.Fatalf("status = %d, want %d (reply %+v)", status, tt.status, reply)
			}
			if reply.Success != (tt.status == http.StatusOK) {
				t.Errorf("success = %v for status %d", reply.Success, status)
			}
			if got := a.taskCount(t) - before; got != tt.tasks {
				t.Errorf("created %d tasks, want %d", got, tt.tasks)
			}
		})
	}
}

func TestTriggerReplyShape(t *testing.T) {
	a := newTestAPI(t)
	a.addResponder(t, "r-1", "WS-0042", "")
	tr := a.createTrigger(t, "siem")

	_, reply := a.call(t, "siem", "ws-0042,ghost", tr.Token)
	d := reply.Data
	if d == nil || d.Parser != "URL" || d.AcquisitionProfile != "Browsing History" || d.TaskID == "" {
		t.Fatalf("reply data = %+v", d)
	}
	if len(d.Endpoints) != 1 || d.Endpoints[0] != "WS-0042" {
		t.Errorf("endpoints = %v, want [WS-0042]", d.Endpoints)
	}
	if len(d.NotFound) != 1 || d.NotFound[0] != "ghost" {
		t.Errorf("notFound = %v, want [ghost]", d.NotFound)
	}
	as, err := a.store.ListAssignments(context.Background(), d.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].ResponderID != "r-1" || as[0].State != store.StatePending {
		t.Errorf("assignments = %+v, want one pending for r-1", as)
	}
}

func TestAmbiguousReplyListsCandidates(t *testing.T) {
	a := newTestAPI(t)
	a.addResponder(t, "r-2", "dup", "dup.a.example")
	a.addResponder(t, "r-3", "dup", "dup.b.example")
	tr := a.createTrigger(t, "siem")

	_, reply := a.call(t, "siem", "DUP", tr.Token)
	if reply.Error == nil || len(reply.Error.Candidates) != 2 {
		t.Fatalf("error = %+v, want two candidates", reply.Error)
	}
	for _, want := range []string{"dup.a.example (r-2)", "dup.b.example (r-3)"} {
		if !strings.Contains(strings.Join(reply.Error.Candidates, "|"), want) {
			t.Errorf("candidates %v do not include %q", reply.Error.Candidates, want)
		}
	}
}

func TestRotateInvalidatesOldToken(t *testing.T) {
	a := newTestAPI(t)
	a.addResponder(t, "r-1", "ws1", "")
	tr := a.createTrigger(t, "siem")

	var rotated apitypes.TriggerWithToken
	if code := a.do(t, "POST", "/api/v1/triggers/siem/rotate", nil, &rotated); code != http.StatusOK {
		t.Fatalf("rotate: status %d", code)
	}
	if status, _ := a.call(t, "siem", "ws1", tr.Token); status != http.StatusUnauthorized {
		t.Errorf("old token: status %d, want 401", status)
	}
	if status, _ := a.call(t, "siem", "ws1", rotated.Token); status != http.StatusOK {
		t.Errorf("new token: status %d, want 200", status)
	}
}

func TestTriggerTokenNotLogged(t *testing.T) {
	a := newTestAPI(t)
	tr := a.createTrigger(t, "siem")
	a.call(t, "siem", "ghost", tr.Token)
	a.call(t, "siem", "ghost", "wrong-token-value")

	logged := a.logBuf.String()
	for _, secret := range []string{tr.Token, "wrong-token-value", a.key} {
		if strings.Contains(logged, secret) {
			t.Errorf("log contains a secret %q", secret[:6]+"...")
		}
	}
	if !strings.Contains(logged, "path=/api/trigger/siem/ghost") {
		t.Errorf("access log does not record the trigger path:\n%s", logged)
	}
}

func TestStoredSecretsAreHashes(t *testing.T) {
	a := newTestAPI(t)
	tr := a.createTrigger(t, "siem")
	stored, err := a.store.GetTrigger(context.Background(), "siem")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored.TokenHash, []byte(tr.Token)) || !auth.Equal(stored.TokenHash, tr.Token) {
		t.Fatal("trigger token is not stored as its hash")
	}
}

func TestAPIRejectsBadKey(t *testing.T) {
	a := newTestAPI(t)
	a.key = APIKeyPrefix + "_000000000000_wrong"
	var e apitypes.Error
	if code := a.do(t, "GET", "/api/v1/responders", nil, &e); code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", code)
	}
	if e.Error == "" {
		t.Fatal("401 reply has no error message")
	}
}

func TestCreateTriggerValidation(t *testing.T) {
	a := newTestAPI(t)
	tests := []struct {
		name   string
		req    apitypes.CreateTriggerRequest
		status int
	}{
		{"unknown profile", apitypes.CreateTriggerRequest{Name: "x", Profile: "No Such Profile"}, http.StatusBadRequest},
		{"bad name", apitypes.CreateTriggerRequest{Name: "bad name/", Profile: "Quick Triage"}, http.StatusBadRequest},
		{"ok", apitypes.CreateTriggerRequest{Name: "dup", Profile: "Quick Triage"}, http.StatusCreated},
		{"duplicate", apitypes.CreateTriggerRequest{Name: "dup", Profile: "Quick Triage"}, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apitypes.Error
			if code := a.do(t, "POST", "/api/v1/triggers", tt.req, &e); code != tt.status {
				t.Fatalf("status %d, want %d (%s)", code, tt.status, e.Error)
			}
		})
	}
}

func TestTriggerWakesConnectedResponder(t *testing.T) {
	a := newTestAPI(t)
	a.addResponder(t, "r-1", "ws1", "")
	session, remove := a.hub.Register("r-1")
	defer remove()
	<-session.Wake // the wake-up every new session starts with
	tr := a.createTrigger(t, "siem")

	if status, _ := a.call(t, "siem", "ws1", tr.Token); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	select {
	case <-session.Wake:
	default:
		t.Fatal("trigger call did not wake the responder's session")
	}
}

func TestCancelTask(t *testing.T) {
	a := newTestAPI(t)
	a.addResponder(t, "r-1", "ws1", "")
	tr := a.createTrigger(t, "siem")
	_, first := a.call(t, "siem", "ws1", tr.Token)
	_, second := a.call(t, "siem", "ws1", tr.Token)

	var task apitypes.Task
	if code := a.do(t, "POST", "/api/v1/tasks/"+first.Data.TaskID+"/cancel", nil, &task); code != http.StatusOK {
		t.Fatalf("cancel open task: status %d", code)
	}
	if task.State != apitypes.TaskCancelled || task.Assignments[0].State != string(store.StateCancelled) {
		t.Errorf("cancelled task = state %s, assignment %s; want cancelled, cancelled", task.State, task.Assignments[0].State)
	}

	as, err := a.store.ListAssignments(context.Background(), second.Data.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.store.UpdateAssignment(context.Background(), as[0].ID, func(x *store.Assignment) error {
		x.State = store.StateCompleted
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var e apitypes.Error
	if code := a.do(t, "POST", "/api/v1/tasks/"+second.Data.TaskID+"/cancel", nil, &e); code != http.StatusConflict {
		t.Fatalf("cancel completed task: status %d, want 409", code)
	}
	if code := a.do(t, "POST", "/api/v1/tasks/t-none/cancel", nil, &e); code != http.StatusNotFound {
		t.Fatalf("cancel unknown task: status %d, want 404", code)
	}
}
