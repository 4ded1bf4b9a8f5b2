package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// receiptMessage is the msg of the responder's log line for each
// assignment it receives.
const receiptMessage = "assignment received"

// logLine is the part of a slog JSON line that readReceipts uses.
type logLine struct {
	Time   string `json:"time"`
	Msg    string `json:"msg"`
	TaskID string `json:"task_id"`
}

// readReceipts returns, for each task ID in the "assignment received"
// lines of a responder's JSON log, the time of the first such line. Lines
// that are not JSON, such as a panic trace, are skipped. A receipt line
// without a task_id or a parsable RFC 3339 time is an error, because the
// benchmark cannot work without them.
func readReceipts(r io.Reader) (map[string]time.Time, error) {
	receipts := make(map[string]time.Time)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var line logLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Msg != receiptMessage {
			continue
		}
		if line.TaskID == "" {
			return nil, fmt.Errorf("responder log line %d: %q has no task_id", n, receiptMessage)
		}
		t, err := time.Parse(time.RFC3339Nano, line.Time)
		if err != nil {
			return nil, fmt.Errorf("responder log line %d: time %q: %w", n, line.Time, err)
		}
		if _, seen := receipts[line.TaskID]; !seen {
			receipts[line.TaskID] = t
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read responder log: %w", err)
	}
	return receipts, nil
}
