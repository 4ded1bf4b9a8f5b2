package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/magpie-ir/magpie/console/apitypes"
)

// getJSON sends an authenticated GET for path and decodes the reply into
// out.
func (c *Console) getJSON(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+c.HTTPAddr+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("GET %s: read reply: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: decode reply: %w", path, err)
	}
	return nil
}

// Responders returns the console's responder list.
func (c *Console) Responders(ctx context.Context) ([]apitypes.Responder, error) {
	var list apitypes.ResponderList
	err := c.getJSON(ctx, "/api/v1/responders", &list)
	return list.Responders, err
}

// Task returns one task with its assignments.
func (c *Console) Task(ctx context.Context, id string) (apitypes.Task, error) {
	var task apitypes.Task
	err := c.getJSON(ctx, "/api/v1/tasks/"+url.PathEscape(id), &task)
	return task, err
}

// Tasks returns the newest limit tasks.
func (c *Console) Tasks(ctx context.Context, limit int) ([]apitypes.Task, error) {
	var list apitypes.TaskList
	err := c.getJSON(ctx, "/api/v1/tasks?limit="+strconv.Itoa(limit), &list)
	return list.Tasks, err
}

// ErrTaskFailed is returned by WaitTask for a task that ended in the
// failed state.
var ErrTaskFailed = errors.New("task failed")

// WaitTask polls task id every interval until it leaves the open state or
// timeout passes. A failed task returns the task and an error wrapping
// ErrTaskFailed with the assignments' errors.
func (c *Console) WaitTask(ctx context.Context, id string, interval, timeout time.Duration) (apitypes.Task, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		task, err := c.Task(ctx, id)
		if err != nil {
			return task, err
		}
		switch task.State {
		case apitypes.TaskCompleted:
			return task, nil
		case apitypes.TaskFailed:
			var reasons []string
			for _, a := range task.Assignments {
				if a.Error != "" {
					reasons = append(reasons, a.Hostname+": "+a.Error)
				}
			}
			return task, fmt.Errorf("%w: task %s: %s", ErrTaskFailed, id, strings.Join(reasons, "; "))
		}
		select {
		case <-ctx.Done():
			return task, fmt.Errorf("wait for task %s: still %s after %v", id, task.State, timeout)
		case <-ticker.C:
		}
	}
}

// Trigger is a trigger created for a benchmark.
type Trigger struct {
	Name string `json:"name"`
	// URL contains the token and an {endpoint} placeholder.
	URL string `json:"url"`
}

// CreateTrigger creates a trigger for profile with 'magpie triggers
// create'.
func (c *Console) CreateTrigger(ctx context.Context, name, profile string) (Trigger, error) {
	out, err := c.CLI(ctx, "triggers", "create", "--name", name, "--profile", profile, "--json")
	if err != nil {
		return Trigger{}, err
	}
	var t Trigger
	if err := json.Unmarshal([]byte(out), &t); err != nil {
		return Trigger{}, fmt.Errorf("decode 'magpie triggers create --json' output: %w", err)
	}
	if !strings.Contains(t.URL, "{endpoint}") {
		return Trigger{}, errors.New("trigger URL from 'magpie triggers create' has no {endpoint} placeholder")
	}
	return t, nil
}

// CallURL returns t's URL for endpoint, pointed at the console's listen
// address: the URL from the console uses its public URL, whose host name
// may not resolve to 127.0.0.1.
func (c *Console) CallURL(t Trigger, endpoint string) (string, error) {
	u, err := url.Parse(strings.ReplaceAll(t.URL, "{endpoint}", url.PathEscape(endpoint)))
	if err != nil {
		return "", fmt.Errorf("parse trigger URL: %w", err)
	}
	u.Scheme = "https"
	u.Host = c.HTTPAddr
	return u.String(), nil
}

// Call sends a trigger call and returns the reply. A reply other than
// 200 with success is an error.
func (c *Console) Call(ctx context.Context, callURL string) (apitypes.TriggerReply, error) {
	var reply apitypes.TriggerReply
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, callURL, nil)
	if err != nil {
		return reply, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		// The URL contains the trigger token, so the error names only the
		// operation.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return reply, fmt.Errorf("trigger call: %w", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&reply); err != nil {
		return reply, fmt.Errorf("trigger call: %s: decode reply: %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK || !reply.Success || reply.Data == nil {
		msg := ""
		if reply.Error != nil {
			msg = reply.Error.Message
		}
		return reply, fmt.Errorf("trigger call: %s: %s", resp.Status, msg)
	}
	return reply, nil
}
