package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCancelReachesRunningResponder(t *testing.T) {
	c := startConsole(t)
	root := t.TempDir()
	// A sparse 64 GiB log keeps the responder busy far longer than the test
	// waits, without using disk space.
	huge := filepath.Join(root, "var", "log", "syslog")
	os.MkdirAll(filepath.Dir(huge), 0o755)
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()

	state := filepath.Join(t.TempDir(), "state")
	c.startResponder(t, state, "busy01", root, false)
	c.waitOnline(t, "busy01")
	tr := c.createTrigger(t, "cancel", "Quick Triage")
	code, reply := c.call(t, tr.URL, "busy01")
	if code != http.StatusOK {
		t.Fatalf("trigger call: status %d reply %+v", code, reply)
	}
	task := reply.Data.TaskID

	state1 := func() string {
		var tk struct {
			Assignments []struct {
				ID    string `json:"id"`
				State string `json:"state"`
			} `json:"assignments"`
		}
		if err := json.Unmarshal([]byte(c.magpie(t, "tasks", "show", task, "--json")), &tk); err != nil {
			t.Fatal(err)
		}
		return tk.Assignments[0].ID + " " + tk.Assignments[0].State
	}
	waitFor(t, 60*time.Second, "assignment running", func() bool {
		return strings.HasSuffix(state1(), " running")
	})

	c.magpie(t, "tasks", "cancel", task)
	id, st, _ := strings.Cut(state1(), " ")
	if st != "cancelled" {
		t.Fatalf("assignment state after cancel = %s, want cancelled", st)
	}

	logPath := filepath.Join(filepath.Dir(state), "busy01.log")
	waitFor(t, 30*time.Second, "responder to stop the assignment", func() bool {
		out, _ := os.ReadFile(logPath)
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "assignment cancelled") && strings.Contains(line, id) {
				return true
			}
		}
		return false
	})
	waitFor(t, 10*time.Second, "spool to be emptied", func() bool {
		spool, _ := filepath.Glob(filepath.Join(state, "spool", "*"))
		return len(spool) == 0
	})
}
