package procstat

import (
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		data string
		want time.Duration
	}{
		{
			name: "plain name",
			data: "4242 (magpie-respond) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 37 0 0 20 0 9 0 100 1000 300 18446744073709551615",
			want: 2870 * time.Millisecond,
		},
		{
			name: "name with spaces and parentheses",
			data: "7 (a) b (c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 100 1000 300 0",
			want: 30 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("parseStat() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseStatTruncated(t *testing.T) {
	if _, err := parseStat([]byte("1 (init) S 0 1 1")); err == nil {
		t.Error("parseStat of a truncated line returned no error")
	}
	if _, err := parseStat([]byte("no parenthesis")); err == nil {
		t.Error("parseStat without a command name returned no error")
	}
}

func TestParseStatus(t *testing.T) {
	data := "Name:\tmagpie-responder\nVmPeak:\t 1300000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   16384 kB\nThreads:\t9\n"
	rss, hwm, err := parseStatus([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if rss != 16384<<10 {
		t.Errorf("RSS = %d, want %d", rss, 16384<<10)
	}
	if hwm != 20480<<10 {
		t.Errorf("HWM = %d, want %d", hwm, 20480<<10)
	}
}

func TestParseStatusMissing(t *testing.T) {
	// A zombie's status has no Vm lines.
	if _, _, err := parseStatus([]byte("Name:\tx\nState:\tZ (zombie)\n")); err == nil {
		t.Error("parseStatus without VmRSS returned no error")
	}
}
