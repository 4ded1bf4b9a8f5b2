package procstat

import (
	"fmt"
	"os"
	"strconv"
)

// Read returns the counters of process pid from /proc/PID/stat and
// /proc/PID/status.
func Read(pid int) (Sample, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return Sample{}, fmt.Errorf("read CPU time of pid %d: %w", pid, err)
	}
	cpu, err := parseStat(stat)
	if err != nil {
		return Sample{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return Sample{}, fmt.Errorf("read memory of pid %d: %w", pid, err)
	}
	rss, hwm, err := parseStatus(status)
	if err != nil {
		return Sample{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	return Sample{CPU: cpu, RSS: rss, HWM: hwm}, nil
}
