package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/magpie-ir/magpie/console/apitypes"
)

// assignmentCompleted is the state of an assignment whose evidence package
// was stored. A task is "completed" when all its assignments are.
const assignmentCompleted = "completed"

func defineTasksList(fs *flag.FlagSet) runFunc {
	limit := fs.Int("limit", 0,
		"maximum number of tasks to list, newest first; 0 uses the console's default")
	asJSON := fs.Bool("json", false, "print the task list as JSON instead of a table")

	return func(ctx context.Context, a *app, _ []string) error {
		query, err := limitQuery(*limit)
		if err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		var list apitypes.TaskList
		if err := c.getJSON(ctx, &list, query, "api", "v1", "tasks"); err != nil {
			return fmt.Errorf("list tasks: %w", err)
		}

		if *asJSON {
			return writeJSON(a.stdout, list)
		}
		if len(list.Tasks) == 0 {
			fmt.Fprintln(a.stderr, "no tasks")
			return nil
		}
		t := newTable(a.stdout, "ID", "STATE", "PROFILE", "TRIGGER", "REQUESTER", "COMPLETED", "CREATED")
		for _, task := range list.Tasks {
			done := 0
			for _, as := range task.Assignments {
				if as.State == assignmentCompleted {
					done++
				}
			}
			t.row(task.ID, task.State, task.Profile, orDash(task.Trigger), task.Requester,
				fmt.Sprintf("%d/%d", done, len(task.Assignments)), formatTime(task.CreatedAt))
		}
		return t.flush()
	}
}

func defineTasksShow(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print the task as JSON instead of a summary and table")

	return func(ctx context.Context, a *app, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		var task apitypes.Task
		if err := c.getJSON(ctx, &task, nil, "api", "v1", "tasks", args[0]); err != nil {
			return fmt.Errorf("show task %s: %w", args[0], err)
		}
		if *asJSON {
			return writeJSON(a.stdout, task)
		}
		return printTask(a.stdout, task)
	}
}

func defineTasksCancel(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, a *app, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		var task apitypes.Task
		if err := c.postJSON(ctx, nil, &task, "api", "v1", "tasks", args[0], "cancel"); err != nil {
			return fmt.Errorf("cancel task %s: %w", args[0], err)
		}
		fmt.Fprintf(a.stdout, "Task %s cancelled; state: %s.\n\n", task.ID, task.State)
		return printAssignments(a.stdout, task.Assignments)
	}
}

// printTask prints a task's fields and its assignment table.
func printTask(w io.Writer, task apitypes.Task) error {
	fmt.Fprintf(w, "Task:       %s\n", task.ID)
	fmt.Fprintf(w, "State:      %s\n", task.State)
	fmt.Fprintf(w, "Profile:    %s\n", task.Profile)
	fmt.Fprintf(w, "Trigger:    %s\n", orDash(task.Trigger))
	fmt.Fprintf(w, "Requester:  %s\n", task.Requester)
	fmt.Fprintf(w, "Endpoints:  %s\n", orDash(strings.Join(task.Endpoints, ", ")))
	fmt.Fprintf(w, "Created:    %s\n", formatTime(task.CreatedAt))
	fmt.Fprintf(w, "Expires:    %s\n", formatTime(task.ExpiresAt))
	fmt.Fprintln(w)
	return printAssignments(w, task.Assignments)
}

func printAssignments(w io.Writer, assignments []apitypes.Assignment) error {
	if len(assignments) == 0 {
		fmt.Fprintln(w, "No assignments.")
		return nil
	}
	t := newTable(w, "ASSIGNMENT", "HOSTNAME", "STATE", "FILES", "BYTES", "EVIDENCE SHA256", "ERROR")
	for _, as := range assignments {
		sha := "-"
		if as.Evidence != nil {
			sha = as.Evidence.SHA256
		}
		t.row(as.ID, as.Hostname, as.State, strconv.FormatInt(as.FilesDone, 10),
			formatBytes(as.BytesRead), sha, orDash(as.Error))
	}
	return t.flush()
}

// tasksWaitDetails is the part of "tasks wait -h" that lists its exit codes.
const tasksWaitDetails = `Exit codes:
  0  the task completed
  1  the task failed or was cancelled, or a request to the console failed
  2  usage error, such as an invalid flag or a missing console URL
  3  --timeout ran out while the task was still open
`

func defineTasksWait(fs *flag.FlagSet) runFunc {
	timeout := fs.Duration("timeout", 10*time.Minute,
		"how long to wait for the task to complete, fail or be cancelled, as a Go duration (\"90s\", \"1h\");\n"+
			"exit code 3 when it runs out")
	interval := fs.Duration("interval", 500*time.Millisecond,
		"time between two polls of the task, as a Go duration (\"500ms\", \"5s\")")

	return func(ctx context.Context, a *app, args []string) error {
		if *timeout <= 0 {
			return usageError(fmt.Errorf("invalid --timeout %s: must be positive", *timeout))
		}
		if *interval <= 0 {
			return usageError(fmt.Errorf("invalid --interval %s: must be positive", *interval))
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		w := &taskWaiter{c: c, id: args[0], out: a.stderr, interval: *interval}
		return w.wait(ctx, *timeout)
	}
}

// taskWaiter polls one task until it leaves the open state and prints each
// state change between two polls.
type taskWaiter struct {
	c        *client
	id       string
	out      io.Writer
	interval time.Duration

	last      *apitypes.Task
	states    map[string]string // assignment ID -> last printed state
	lastRetry string            // last transient error printed
}

// wait returns nil when the task completed, an error with exit code 1 when
// it failed or was cancelled and one with exit code 3 (exitTimeout) when
// timeout ran out first.
func (w *taskWaiter) wait(parent context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	w.states = make(map[string]string)

	var pollErr error
	for {
		var task apitypes.Task
		pollErr = w.c.getJSON(ctx, &task, nil, "api", "v1", "tasks", w.id)
		switch {
		case pollErr == nil:
			w.report(task)
			if task.State != apitypes.TaskOpen {
				return w.finish(task)
			}
		case ctx.Err() != nil:
			// The deadline or an interrupt ended the request; handled below.
		case w.last != nil && isTransient(pollErr):
			// Retry only once the task was seen, so a wrong --console
			// fails at once instead of after the whole timeout.
			w.reportRetry(pollErr)
		default:
			return fmt.Errorf("wait for task %s: %w", w.id, pollErr)
		}

		timer := time.NewTimer(w.interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			if parent.Err() != nil {
				return fmt.Errorf("wait for task %s: %w", w.id, parent.Err())
			}
			return w.timedOut(timeout, pollErr)
		case <-timer.C:
		}
	}
}

// report prints the task's state on the first poll and every assignment
// whose state changed since the previous one.
func (w *taskWaiter) report(task apitypes.Task) {
	if w.last == nil || w.last.State != task.State {
		fmt.Fprintf(w.out, "task %s: %s (%s)\n", task.ID, task.State, plural(len(task.Assignments), "assignment"))
	}
	for _, as := range task.Assignments {
		if w.states[as.ID] == as.State {
			continue
		}
		w.states[as.ID] = as.State
		line := fmt.Sprintf("  %s (assignment %s): %s, %d files, %s read",
			as.Hostname, as.ID, as.State, as.FilesDone, formatBytes(as.BytesRead))
		if as.Error != "" {
			line += ": " + as.Error
		}
		fmt.Fprintln(w.out, line)
	}
	w.last = &task
	w.lastRetry = ""
}

// reportRetry prints a transient poll error once until a poll succeeds or
// the error changes, so a console restart does not flood the terminal.
func (w *taskWaiter) reportRetry(err error) {
	if msg := err.Error(); msg != w.lastRetry {
		fmt.Fprintf(w.out, "poll of task %s failed, retrying: %v\n", w.id, err)
		w.lastRetry = msg
	}
}

func (w *taskWaiter) finish(task apitypes.Task) error {
	switch task.State {
	case apitypes.TaskCompleted:
		fmt.Fprintln(w.out, downloadHint(task))
		return nil
	case apitypes.TaskCancelled:
		return fmt.Errorf("task %s was cancelled: all %d assignments were cancelled", task.ID, len(task.Assignments))
	}

	failed := 0
	for _, as := range task.Assignments {
		if as.State == assignmentCompleted {
			continue
		}
		failed++
		fmt.Fprintf(w.out, "  %s (assignment %s) %s: %s\n", as.Hostname, as.ID, as.State, orDash(as.Error))
	}
	return fmt.Errorf("task %s %s: %d of %d assignments did not complete", task.ID, task.State, failed, len(task.Assignments))
}

// downloadHint returns the command line that downloads the evidence of a
// completed task.
func downloadHint(task apitypes.Task) string {
	hint := fmt.Sprintf("task %s completed; download its evidence with 'magpie evidence download %s -o FILE'", task.ID, task.ID)
	if n := len(task.Assignments); n > 1 {
		hint += fmt.Sprintf(", where FILE is a directory because the task has %d packages", n)
	}
	return hint
}

func (w *taskWaiter) timedOut(timeout time.Duration, pollErr error) error {
	states := "unknown"
	if w.last != nil {
		var parts []string
		for _, as := range w.last.Assignments {
			parts = append(parts, as.Hostname+"="+as.State)
		}
		states = orDash(strings.Join(parts, ", "))
	} else if pollErr != nil {
		states += " (no reply from the console: " + pollErr.Error() + ")"
	}
	return &exitError{
		code: exitTimeout,
		err:  fmt.Errorf("task %s still open after %s; states: %s", w.id, timeout, states),
	}
}

// isTransient reports whether a failed poll is worth retrying: a
// connection failure or a 5xx or 429 reply. Other client errors, such as an
// unknown task or a rejected API key, are not.
func isTransient(err error) bool {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500 || ae.StatusCode == http.StatusTooManyRequests
	}
	return !errors.Is(err, context.Canceled)
}
