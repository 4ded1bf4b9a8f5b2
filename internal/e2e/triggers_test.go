package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRotatedTokenRejected(t *testing.T) {
	c := startConsole(t)
	tr := c.createTrigger(t, "rotate-me", "Browsing History")

	var rotated trigger
	if err := json.Unmarshal([]byte(c.magpie(t, "triggers", "rotate", "rotate-me", "--json")), &rotated); err != nil {
		t.Fatal(err)
	}
	if rotated.Token == "" || rotated.Token == tr.Token {
		t.Fatalf("rotate returned token %q, want a new one", rotated.Token)
	}

	code, reply := c.call(t, tr.URL, "nosuchhost")
	if code != http.StatusUnauthorized || reply.Success {
		t.Errorf("old token: status %d success %v, want 401 and success false", code, reply.Success)
	}
	code, reply = c.call(t, rotated.URL, "nosuchhost")
	if code != http.StatusNotFound || reply.Error == nil || len(reply.Error.NotFound) != 1 || reply.Error.NotFound[0] != "nosuchhost" {
		t.Errorf("new token, unknown host: status %d reply %+v, want 404 naming nosuchhost", code, reply)
	}

	wrong := strings.Replace(rotated.URL, url.QueryEscape(rotated.Token), "wrong", 1)
	if code, _ := c.call(t, wrong, "nosuchhost"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: status %d, want 401", code)
	}
	unknown := strings.Replace(rotated.URL, "/rotate-me/", "/no-such-trigger/", 1)
	if code, _ := c.call(t, unknown, "nosuchhost"); code != http.StatusNotFound {
		t.Errorf("unknown trigger: status %d, want 404", code)
	}
}

func TestAmbiguousShortNameCreatesNothing(t *testing.T) {
	c := startConsole(t)
	root := t.TempDir()
	dir := t.TempDir()
	c.startResponder(t, filepath.Join(dir, "a"), "dup01.a.example", root, false)
	c.startResponder(t, filepath.Join(dir, "b"), "dup01.b.example", root, false)
	idA := c.waitOnline(t, "dup01.a.example")
	c.waitOnline(t, "dup01.b.example")
	tr := c.createTrigger(t, "ambiguous", "Browsing History")

	code, reply := c.call(t, tr.URL, "DUP01")
	if code != http.StatusConflict || reply.Success {
		t.Fatalf("short name: status %d reply %+v, want 409", code, reply)
	}
	if reply.Error == nil || len(reply.Error.Candidates) != 2 {
		t.Fatalf("409 reply %+v, want both candidates listed", reply.Error)
	}
	var tasks struct {
		Tasks []json.RawMessage `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(c.magpie(t, "tasks", "list", "--json")), &tasks); err != nil {
		t.Fatal(err)
	}
	if len(tasks.Tasks) != 0 {
		t.Fatalf("ambiguous call created %d tasks, want none", len(tasks.Tasks))
	}

	code, reply = c.call(t, tr.URL, "dup01.a.example")
	if code != http.StatusOK || reply.Data == nil || len(reply.Data.Endpoints) != 1 {
		t.Fatalf("FQDN call: status %d reply %+v, want one endpoint", code, reply)
	}
	var task struct {
		Assignments []struct {
			ResponderID string `json:"responder_id"`
		} `json:"assignments"`
	}
	if err := json.Unmarshal([]byte(c.magpie(t, "tasks", "show", reply.Data.TaskID, "--json")), &task); err != nil {
		t.Fatal(err)
	}
	if len(task.Assignments) != 1 || task.Assignments[0].ResponderID != idA {
		t.Fatalf("FQDN call assigned %+v, want only responder %s", task.Assignments, idA)
	}
}

func TestOfflineResponderGetsTaskOnConnect(t *testing.T) {
	c := startConsole(t)
	root := t.TempDir()
	writeFile(t, root, "/root/.bash_history", "id\n", 0o600)
	state := filepath.Join(t.TempDir(), "state")

	first := c.startResponder(t, state, "late01", root, false)
	id := c.waitOnline(t, "late01")
	stop(first)
	waitFor(t, 30*time.Second, "responder offline", func() bool {
		var list struct {
			Responders []struct {
				Online bool `json:"online"`
			} `json:"responders"`
		}
		if err := json.Unmarshal([]byte(c.magpie(t, "responders", "list", "--json")), &list); err != nil {
			t.Fatal(err)
		}
		return len(list.Responders) == 1 && !list.Responders[0].Online
	})

	tr := c.createTrigger(t, "offline", "Quick Triage")
	code, reply := c.call(t, tr.URL, "late01")
	if code != http.StatusOK {
		t.Fatalf("trigger for offline responder: status %d reply %+v", code, reply)
	}
	var task struct {
		Assignments []struct {
			State string `json:"state"`
		} `json:"assignments"`
	}
	if err := json.Unmarshal([]byte(c.magpie(t, "tasks", "show", reply.Data.TaskID, "--json")), &task); err != nil {
		t.Fatal(err)
	}
	if len(task.Assignments) != 1 || task.Assignments[0].State != "pending" {
		t.Fatalf("assignment for offline responder = %+v, want one pending", task.Assignments)
	}

	c.startResponder(t, state, "late01", root, false)
	if got := c.waitOnline(t, "late01"); got != id {
		t.Fatalf("restarted responder has id %s, want its enrolled id %s", got, id)
	}
	c.magpie(t, "tasks", "wait", reply.Data.TaskID, "--timeout", "120s")
}

func TestRevokedResponderStops(t *testing.T) {
	c := startConsole(t)
	cmd := c.startResponder(t, filepath.Join(t.TempDir(), "state"), "gone01", t.TempDir(), false)
	id := c.waitOnline(t, "gone01")

	out := c.magpie(t, "responders", "revoke", id)
	if !strings.Contains(out, id) {
		t.Errorf("revoke output %q does not name the responder", out)
	}

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err == nil {
			t.Error("revoked responder exited with status 0, want an error")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("revoked responder still running after 60s")
	}

	var list struct {
		Responders []struct {
			ID        string `json:"id"`
			Hostname  string `json:"hostname"`
			RevokedAt string `json:"revoked_at"`
		} `json:"responders"`
	}
	if err := json.Unmarshal([]byte(c.magpie(t, "responders", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Responders) != 1 || list.Responders[0].Hostname != "gone01" || list.Responders[0].RevokedAt == "" {
		t.Errorf("responders after revoke: %+v, want gone01 listed as revoked", list.Responders)
	}
	if _, _, err := c.tryMagpie("responders", "revoke", id); err == nil {
		t.Error("revoking a revoked responder succeeded")
	}
	if _, _, err := c.tryMagpie("responders", "revoke", "r-unknown"); err == nil {
		t.Error("revoking an unknown responder succeeded")
	}
}
