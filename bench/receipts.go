package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Messages of the responder's log lines that the benchmarks read. Each
// line has a task_id.
const (
	// receiptMessage is logged when an assignment arrives.
	receiptMessage = "assignment received"
	// collectedMessage is logged when the package is complete in the
	// spool, before the upload starts.
	collectedMessage = "collection finished"
	// uploadedMessage is logged when the console has confirmed the upload.
	uploadedMessage = "evidence uploaded"
)

// logLine is the part of a slog JSON line that readLogTimes uses.
type logLine struct {
	Time   string `json:"time"`
	Msg    string `json:"msg"`
	TaskID string `json:"task_id"`
}

// readLogTimes returns, for each task ID in the lines of a responder's
// JSON log whose msg is message, the time of the first such line. Lines
// that are not JSON, such as a panic trace, are skipped. A matching line
// without a task_id or a parsable RFC 3339 time is an error, because the
// benchmarks cannot work without them.
func readLogTimes(r io.Reader, message string) (map[string]time.Time, error) {
	times := make(map[string]time.Time)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var line logLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Msg != message {
			continue
		}
		if line.TaskID == "" {
			return nil, fmt.Errorf("responder log line %d: %q has no task_id", n, message)
		}
		t, err := time.Parse(time.RFC3339Nano, line.Time)
		if err != nil {
			return nil, fmt.Errorf("responder log line %d: time %q: %w", n, line.Time, err)
		}
		if _, seen := times[line.TaskID]; !seen {
			times[line.TaskID] = t
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read responder log: %w", err)
	}
	return times, nil
}

// readLogFileTimes is readLogTimes for the log file at path.
func readLogFileTimes(path, message string) (map[string]time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open responder log: %w", err)
	}
	defer f.Close()
	return readLogTimes(f, message)
}
