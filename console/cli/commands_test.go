package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/magpie-ir/magpie/console/apitypes"
)

var testTime = time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC)

func testAssignment(id, hostname, state string) apitypes.Assignment {
	return apitypes.Assignment{
		ID:          id,
		ResponderID: "R-" + hostname,
		Hostname:    hostname,
		State:       state,
		FilesDone:   42,
		BytesRead:   3 << 20,
		CreatedAt:   testTime,
		UpdatedAt:   testTime.Add(time.Minute),
	}
}

func testTask(id, state string, assignments ...apitypes.Assignment) apitypes.Task {
	endpoints := make([]string, 0, len(assignments))
	for _, as := range assignments {
		endpoints = append(endpoints, as.Hostname)
	}
	return apitypes.Task{
		ID:          id,
		Trigger:     "siem",
		Profile:     "triage",
		Requester:   "trigger:siem",
		Endpoints:   endpoints,
		State:       state,
		CreatedAt:   testTime,
		ExpiresAt:   testTime.Add(24 * time.Hour),
		Assignments: assignments,
	}
}

func withError(as apitypes.Assignment, msg string) apitypes.Assignment {
	as.Error = msg
	return as
}

func TestEnrollTokenCreate(t *testing.T) {
	fc := newFakeConsole(t)

	res := runCLI(t, fc.env(), "enroll-token", "create", "--ttl", "2h", "--single-use")
	if res.code != exitOK {
		t.Fatalf("exit code = %d; stderr: %s", res.code, res.stderr)
	}
	if res.stdout != "enr_8d2f0c61a9b34e7d\n" {
		t.Errorf("stdout = %q, want the token alone on one line", res.stdout)
	}
	if want := "enrollment token expires 2031-05-01T14:00:00Z (single use)\n"; res.stderr != want {
		t.Errorf("stderr = %q, want %q", res.stderr, want)
	}

	res = runCLI(t, fc.env(), "enroll-token", "create", "--json")
	if res.code != exitOK {
		t.Fatalf("--json: exit code = %d; stderr: %s", res.code, res.stderr)
	}
	want := jsonLine(t, apitypes.EnrollToken{
		Token:     "enr_8d2f0c61a9b34e7d",
		ExpiresAt: testTime.Add(24 * time.Hour),
	})
	if res.stdout != want {
		t.Errorf("--json stdout = %q, want %q", res.stdout, want)
	}

	fc.mu.Lock()
	defer fc.mu.Unlock()
	wantReqs := []apitypes.CreateEnrollTokenRequest{{TTL: "2h0m0s", SingleUse: true}, {}}
	if diff := cmp.Diff(wantReqs, fc.enrollReqs); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestEnrollTokenRejectsNegativeTTL(t *testing.T) {
	res := runCLI(t, nil, "enroll-token", "create", "--ttl", "-1h")
	if res.code != exitUsage {
		t.Errorf("exit code = %d, want %d", res.code, exitUsage)
	}
	if !strings.Contains(res.stderr, "invalid --ttl -1h0m0s") {
		t.Errorf("stderr = %q", res.stderr)
	}
}

func TestRespondersList(t *testing.T) {
	fc := newFakeConsole(t)
	fc.responders = []apitypes.Responder{
		{ID: "R1", Hostname: "ws-01", FQDN: "ws-01.corp.example", IPs: []string{"10.0.0.5", "fe80::1"},
			OS: "windows", Arch: "amd64", Version: "0.3.0", LastSeen: testTime, Online: true},
		{ID: "R2", Hostname: "db-02", IPs: nil, OS: "linux", Arch: "arm64", Version: "0.3.0", LastSeen: testTime.Add(-time.Hour)},
	}

	res := runCLI(t, fc.env(), "responders", "list")
	if res.code != exitOK {
		t.Fatalf("exit code = %d; stderr: %s", res.code, res.stderr)
	}
	want := "" +
		"ID  HOSTNAME  FQDN                IPS               OS/ARCH        VERSION  ONLINE  LAST SEEN\n" +
		"R1  ws-01     ws-01.corp.example  10.0.0.5,fe80::1  windows/amd64  0.3.0    yes     2031-05-01T12:00:00Z\n" +
		"R2  db-02     -                   -                 linux/arm64    0.3.0    no      2031-05-01T11:00:00Z\n"
	if diff := cmp.Diff(want, res.stdout); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}

	res = runCLI(t, fc.env(), "responders", "list", "--json")
	if res.code != exitOK {
		t.Fatalf("--json: exit code = %d; stderr: %s", res.code, res.stderr)
	}
	if diff := cmp.Diff(jsonLine(t, apitypes.ResponderList{Responders: fc.responders}), res.stdout); diff != "" {
		t.Errorf("--json (-want +got):\n%s", diff)
	}
}

func TestRespondersListEmpty(t *testing.T) {
	fc := newFakeConsole(t)
	res := runCLI(t, fc.env(), "responders", "list")
	if res.code != exitOK || res.stdout != "" {
		t.Errorf("exit code = %d, stdout = %q; want 0 and no table", res.code, res.stdout)
	}
	if !strings.Contains(res.stderr, "no responders enrolled") {
		t.Errorf("stderr = %q, want a note that none are enrolled", res.stderr)
	}
}

func TestTriggersCreate(t *testing.T) {
	fc := newFakeConsole(t)

	res := runCLI(t, fc.env(), "triggers", "create", "--name", "siem", "--profile", "triage", "--json")
	if res.code != exitOK {
		t.Fatalf("exit code = %d; stderr: %s", res.code, res.stderr)
	}
	want := jsonLine(t, apitypes.TriggerWithToken{
		Trigger: apitypes.Trigger{Name: "siem", Profile: "triage", Parser: "magpie", CreatedAt: testTime},
		Token:   "trg_first",
		URL:     fc.srv.URL + "/api/trigger/siem/{endpoint}?token=trg_first",
	})
	if diff := cmp.Diff(want, res.stdout); diff != "" {
		t.Errorf("--json (-want +got):\n%s", diff)
	}

	res = runCLI(t, fc.env(), "triggers", "create", "--name", "edr", "--profile", "full")
	if res.code != exitOK {
		t.Fatalf("human: exit code = %d; stderr: %s", res.code, res.stderr)
	}
	for _, want := range []string{
		`Trigger "edr" created.`,
		"token:   trg_first",
		"URL:     " + fc.srv.URL + "/api/trigger/edr/{endpoint}?token=trg_first",
		"The token is shown only once",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestTriggersCreateRequiresNameAndProfile(t *testing.T) {
	res := runCLI(t, nil, "triggers", "create", "--profile", "triage")
	if res.code != exitUsage || !strings.Contains(res.stderr, "missing --name") {
		t.Errorf("without --name: exit code = %d, stderr = %q", res.code, res.stderr)
	}
	res = runCLI(t, nil, "triggers", "create", "--name", "siem")
	if res.code != exitUsage || !strings.Contains(res.stderr, "missing --profile") {
		t.Errorf("without --profile: exit code = %d, stderr = %q", res.code, res.stderr)
	}
}

func TestTriggersListAndRotate(t *testing.T) {
	fc := newFakeConsole(t)
	if res := runCLI(t, fc.env(), "triggers", "create", "--name", "siem", "--profile", "triage"); res.code != exitOK {
		t.Fatalf("create: exit code = %d; stderr: %s", res.code, res.stderr)
	}

	res := runCLI(t, fc.env(), "triggers", "rotate", "siem", "--json")
	if res.code != exitOK {
		t.Fatalf("rotate: exit code = %d; stderr: %s", res.code, res.stderr)
	}
	rotated := apitypes.Trigger{Name: "siem", Profile: "triage", Parser: "magpie",
		CreatedAt: testTime, RotatedAt: time.Date(2031, 5, 2, 8, 30, 0, 0, time.UTC)}
	want := jsonLine(t, apitypes.TriggerWithToken{
		Trigger: rotated,
		Token:   "trg_rotated",
		URL:     fc.srv.URL + "/api/trigger/siem/{endpoint}?token=trg_rotated",
	})
	if diff := cmp.Diff(want, res.stdout); diff != "" {
		t.Errorf("rotate --json (-want +got):\n%s", diff)
	}

	res = runCLI(t, fc.env(), "triggers", "rotate", "siem")
	if !strings.Contains(res.stdout, "token:   trg_rotated") || !strings.Contains(res.stdout, `Trigger "siem" rotated.`) {
		t.Errorf("rotate stdout lacks the new token:\n%s", res.stdout)
	}

	res = runCLI(t, fc.env(), "triggers", "list")
	wantTable := "" +
		"NAME  PROFILE  PARSER  CREATED               ROTATED\n" +
		"siem  triage   magpie  2031-05-01T12:00:00Z  2031-05-02T08:30:00Z\n"
	if diff := cmp.Diff(wantTable, res.stdout); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}

	res = runCLI(t, fc.env(), "triggers", "list", "--json")
	if diff := cmp.Diff(jsonLine(t, apitypes.TriggerList{Triggers: []apitypes.Trigger{rotated}}), res.stdout); diff != "" {
		t.Errorf("list --json (-want +got):\n%s", diff)
	}

	res = runCLI(t, fc.env(), "triggers", "rotate", "nope")
	if want := "magpie: rotate trigger \"nope\": 404 Not Found: trigger \"nope\" not found\n"; res.stderr != want {
		t.Errorf("rotate unknown: stderr = %q, want %q", res.stderr, want)
	}
}

func TestTasksListAndShow(t *testing.T) {
	fc := newFakeConsole(t)
	done := testAssignment("A1", "ws-01", "completed")
	done.Evidence = &apitypes.Evidence{SHA256: strings.Repeat("ab", 32), Size: 1234}
	failed := withError(testAssignment("A2", "db-02", "failed"), "open volume: access denied")
	task := testTask("T1", "failed", done, failed)
	fc.taskList = []apitypes.Task{task, testTask("T0", "completed")}
	fc.addTask(task)

	res := runCLI(t, fc.env(), "tasks", "list", "--limit", "1")
	if res.code != exitOK {
		t.Fatalf("list: exit code = %d; stderr: %s", res.code, res.stderr)
	}
	wantList := "" +
		"ID  STATE   PROFILE  TRIGGER  REQUESTER     COMPLETED  CREATED\n" +
		"T1  failed  triage   siem     trigger:siem  1/2        2031-05-01T12:00:00Z\n"
	if diff := cmp.Diff(wantList, res.stdout); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}

	res = runCLI(t, fc.env(), "tasks", "list", "--json")
	if diff := cmp.Diff(jsonLine(t, apitypes.TaskList{Tasks: fc.taskList}), res.stdout); diff != "" {
		t.Errorf("list --json (-want +got):\n%s", diff)
	}

	res = runCLI(t, fc.env(), "tasks", "show", "T1")
	if res.code != exitOK {
		t.Fatalf("show: exit code = %d; stderr: %s", res.code, res.stderr)
	}
	wantShow := "" +
		"Task:       T1\n" +
		"State:      failed\n" +
		"Profile:    triage\n" +
		"Trigger:    siem\n" +
		"Requester:  trigger:siem\n" +
		"Endpoints:  ws-01, db-02\n" +
		"Created:    2031-05-01T12:00:00Z\n" +
		"Expires:    2031-05-02T12:00:00Z\n" +
		"\n" +
		"ASSIGNMENT  HOSTNAME  STATE      FILES  BYTES    EVIDENCE SHA256                                                   ERROR\n" +
		"A1          ws-01     completed  42     3.0 MiB  " + strings.Repeat("ab", 32) + "  -\n" +
		"A2          db-02     failed     42     3.0 MiB  -                                                                 open volume: access denied\n"
	if diff := cmp.Diff(wantShow, res.stdout); diff != "" {
		t.Errorf("show (-want +got):\n%s", diff)
	}

	res = runCLI(t, fc.env(), "tasks", "show", "T1", "--json")
	if diff := cmp.Diff(jsonLine(t, task), res.stdout); diff != "" {
		t.Errorf("show --json (-want +got):\n%s", diff)
	}

	fc.mu.Lock()
	defer fc.mu.Unlock()
	if diff := cmp.Diff([]string{"limit=1", ""}, fc.queries); diff != "" {
		t.Errorf("list queries (-want +got):\n%s", diff)
	}
}

func TestTasksShowUnknown(t *testing.T) {
	fc := newFakeConsole(t)
	res := runCLI(t, fc.env(), "tasks", "show", "T404")
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	if want := "magpie: show task T404: 404 Not Found: task \"T404\" not found\n"; res.stderr != want {
		t.Errorf("stderr = %q, want %q", res.stderr, want)
	}
}

func TestTasksCancel(t *testing.T) {
	fc := newFakeConsole(t)
	fc.addTask(testTask("T1", "open", testAssignment("A1", "ws-01", "running")))

	res := runCLI(t, fc.env(), "tasks", "cancel", "T1")
	if res.code != exitOK {
		t.Fatalf("exit code = %d; stderr: %s", res.code, res.stderr)
	}
	for _, want := range []string{"Task T1 cancelled; state: cancelled.", "A1          ws-01     cancelled", "cancelled by analyst"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestTasksWait(t *testing.T) {
	completed := testAssignment("A1", "ws-01", "completed")
	tests := []struct {
		name       string
		snapshots  []apitypes.Task
		timeout    string
		wantCode   int
		wantStderr []string
		notStderr  string // "" checks nothing
	}{
		{
			name: "completed",
			snapshots: []apitypes.Task{
				testTask("T1", "open", testAssignment("A1", "ws-01", "pending")),
				testTask("T1", "open", testAssignment("A1", "ws-01", "running")),
				testTask("T1", "completed", completed),
			},
			timeout:  "30s",
			wantCode: exitOK,
			wantStderr: []string{
				"task T1: open (1 assignment)\n",
				"  ws-01 (assignment A1): pending, 42 files, 3.0 MiB read\n",
				"  ws-01 (assignment A1): running, 42 files, 3.0 MiB read\n",
				"task T1: completed (1 assignment)\n",
				"task T1 completed; download its evidence with 'magpie evidence download T1 -o FILE'\n",
			},
		},
		{
			name: "completed with several packages",
			snapshots: []apitypes.Task{
				testTask("T1", "completed", completed, testAssignment("A2", "db-02", "completed")),
			},
			timeout:  "30s",
			wantCode: exitOK,
			wantStderr: []string{
				"task T1 completed; download its evidence with 'magpie evidence download T1 -o FILE', " +
					"where FILE is a directory because the task has 2 packages\n",
			},
		},
		{
			name: "completed after console restart",
			snapshots: []apitypes.Task{
				testTask("T1", "open", testAssignment("A1", "ws-01", "running")),
				{},
				{},
				testTask("T1", "completed", completed),
			},
			timeout:  "30s",
			wantCode: exitOK,
			wantStderr: []string{
				"poll of task T1 failed, retrying: 503 Service Unavailable: console is shutting down\n",
				"task T1 completed;",
			},
		},
		{
			name: "failed",
			snapshots: []apitypes.Task{
				testTask("T1", "open", testAssignment("A1", "ws-01", "running"), testAssignment("A2", "db-02", "running")),
				testTask("T1", "failed", completed, withError(testAssignment("A2", "db-02", "failed"), "collector crashed")),
			},
			timeout:  "30s",
			wantCode: exitFailure,
			wantStderr: []string{
				"  db-02 (assignment A2) failed: collector crashed\n",
				"magpie: task T1 failed: 1 of 2 assignments did not complete\n",
			},
		},
		{
			name: "cancelled",
			snapshots: []apitypes.Task{
				testTask("T1", "open", testAssignment("A1", "ws-01", "running"), testAssignment("A2", "db-02", "pending")),
				testTask("T1", apitypes.TaskCancelled,
					withError(testAssignment("A1", "ws-01", "cancelled"), "cancelled by analyst"),
					withError(testAssignment("A2", "db-02", "cancelled"), "cancelled by analyst")),
			},
			timeout:  "30s",
			wantCode: exitFailure,
			wantStderr: []string{
				"  db-02 (assignment A2): cancelled, 42 files, 3.0 MiB read: cancelled by analyst\n",
				"magpie: task T1 was cancelled: all 2 assignments were cancelled\n",
			},
			notStderr: "failed",
		},
		{
			name: "timeout",
			snapshots: []apitypes.Task{
				testTask("T1", "open", testAssignment("A1", "ws-01", "running"), testAssignment("A2", "db-02", "pending")),
			},
			timeout: "300ms",
			// Scripts tell a timeout from a usage error (2) by this code.
			wantCode: 3,
			wantStderr: []string{
				"magpie: task T1 still open after 300ms; states: ws-01=running, db-02=pending\n",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := newFakeConsole(t)
			fc.addTask(tt.snapshots...)

			start := time.Now()
			res := runCLI(t, fc.env(), "tasks", "wait", "T1", "--timeout", tt.timeout, "--interval", "10ms")
			elapsed := time.Since(start)

			if res.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", res.code, tt.wantCode, res.stderr)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
				}
			}
			if tt.notStderr != "" && strings.Contains(res.stderr, tt.notStderr) {
				t.Errorf("stderr contains %q:\n%s", tt.notStderr, res.stderr)
			}
			if n := strings.Count(res.stderr, "retrying"); n > 1 {
				t.Errorf("stderr repeats the same poll error %d times:\n%s", n, res.stderr)
			}
			if limit, _ := time.ParseDuration(tt.timeout); elapsed > limit+5*time.Second {
				t.Errorf("wait took %s, past its %s timeout", elapsed, tt.timeout)
			}
		})
	}
}

func TestTasksWaitExitCodes(t *testing.T) {
	res := runCLI(t, nil, "tasks", "wait", "T1", "--timeout", "-1s")
	if res.code != exitUsage {
		t.Errorf("negative --timeout: exit code = %d, want %d", res.code, exitUsage)
	}
	if exitTimeout == exitUsage {
		t.Errorf("timeout and usage errors share exit code %d", exitUsage)
	}

	res = runCLI(t, nil, "tasks", "wait", "-h")
	if res.code != exitOK {
		t.Fatalf("tasks wait -h: exit code = %d, want 0", res.code)
	}
	for _, want := range []string{
		"Exit codes:\n",
		"  0  the task completed\n",
		"  1  the task failed or was cancelled",
		"  2  usage error",
		"  3  --timeout ran out while the task was still open\n",
		"exit code 3 when it runs out",
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("tasks wait -h lacks %q:\n%s", want, res.stderr)
		}
	}
}

func TestTasksWaitUnknownTaskFailsAtOnce(t *testing.T) {
	fc := newFakeConsole(t)
	res := runCLI(t, fc.env(), "tasks", "wait", "T404", "--timeout", "1h")
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	if !strings.Contains(res.stderr, "404 Not Found") {
		t.Errorf("stderr = %q, want the 404 reply", res.stderr)
	}
}

func TestAuditList(t *testing.T) {
	fc := newFakeConsole(t)
	fc.audit = []apitypes.AuditEvent{
		{ID: 7, Time: testTime, Actor: "api-key:alice", Action: "trigger.create", Target: "siem"},
		{ID: 8, Time: testTime.Add(time.Second), Actor: "trigger:siem", Action: "task.create", Target: "T1", Detail: "endpoints ws-01"},
	}

	res := runCLI(t, fc.env(), "audit", "list", "--limit", "5")
	if res.code != exitOK {
		t.Fatalf("exit code = %d; stderr: %s", res.code, res.stderr)
	}
	want := "" +
		"ID  TIME                  ACTOR          ACTION          TARGET  DETAIL\n" +
		"7   2031-05-01T12:00:00Z  api-key:alice  trigger.create  siem    -\n" +
		"8   2031-05-01T12:00:01Z  trigger:siem   task.create     T1      endpoints ws-01\n"
	if diff := cmp.Diff(want, res.stdout); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}

	res = runCLI(t, fc.env(), "audit", "list", "--json")
	if diff := cmp.Diff(jsonLine(t, apitypes.AuditList{Events: fc.audit}), res.stdout); diff != "" {
		t.Errorf("--json (-want +got):\n%s", diff)
	}

	fc.mu.Lock()
	defer fc.mu.Unlock()
	if diff := cmp.Diff([]string{"limit=5", ""}, fc.queries); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
}
