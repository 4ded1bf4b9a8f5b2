package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestReadLogTimes(t *testing.T) {
	log := strings.Join([]string{
		`{"time":"2026-03-02T10:00:00.000000001+01:00","level":"INFO","msg":"responder started","responder_id":"r-1"}`,
		`{"time":"2026-03-02T10:00:01.5+01:00","level":"INFO","msg":"assignment received","assignment_id":"a-1","task_id":"t-1","profile":"Empty"}`,
		`not json at all`,
		`{"time":"2026-03-02T10:00:02.25+01:00","level":"INFO","msg":"assignment received","assignment_id":"a-2","task_id":"t-2","profile":"Empty"}`,
		// A requeued assignment is logged again; the first receipt counts.
		`{"time":"2026-03-02T10:00:09+01:00","level":"INFO","msg":"assignment received","assignment_id":"a-1","task_id":"t-1","profile":"Empty"}`,
	}, "\n")

	got, err := readLogTimes(strings.NewReader(log), receiptMessage)
	if err != nil {
		t.Fatal(err)
	}
	zone := time.FixedZone("", 3600)
	want := map[string]time.Time{
		"t-1": time.Date(2026, 3, 2, 10, 0, 1, 500_000_000, zone),
		"t-2": time.Date(2026, 3, 2, 10, 0, 2, 250_000_000, zone),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("readLogTimes (-want +got):\n%s", diff)
	}
}

func TestReadLogTimesMissingTaskID(t *testing.T) {
	log := `{"time":"2026-03-02T10:00:01Z","level":"INFO","msg":"assignment received","assignment_id":"a-1"}`
	_, err := readLogTimes(strings.NewReader(log), receiptMessage)
	if err == nil || !strings.Contains(err.Error(), "task_id") {
		t.Errorf("readLogTimes = %v, want an error naming task_id", err)
	}
}

func TestReadLogTimesBadTime(t *testing.T) {
	log := `{"time":"yesterday","level":"INFO","msg":"assignment received","task_id":"t-1"}`
	if _, err := readLogTimes(strings.NewReader(log), receiptMessage); err == nil {
		t.Error("readLogTimes with an unparsable time returned no error")
	}
}
