// Package procstat reads the CPU time and memory of a running process from
// the Linux /proc file system. On other operating systems Read returns
// ErrUnsupported.
package procstat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ClockTicks is the unit of the CPU times in /proc/PID/stat (USER_HZ, the
// value of getconf CLK_TCK). Linux reports these times in 1/100 s on every
// architecture, whatever the kernel's internal tick rate.
const ClockTicks = 100

// ErrUnsupported is returned by Read on operating systems without /proc.
var ErrUnsupported = errors.New("reading process statistics is supported on Linux only")

// Sample is one reading of a process's counters.
type Sample struct {
	// CPU is user plus system time since the process started.
	CPU time.Duration
	// RSS is the resident set size now (VmRSS), in bytes.
	RSS int64
	// HWM is the peak resident set size so far (VmHWM), in bytes.
	HWM int64
}

// parseStat returns utime+stime from the content of /proc/PID/stat. The
// command name in field 2 may contain spaces and parentheses, so the
// fields are counted from the last ')'.
func parseStat(data []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, errors.New("parse /proc stat: no ')' after the command name")
	}
	// fields[0] is field 3 (state), so utime (field 14) is fields[11] and
	// stime (field 15) is fields[12].
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("parse /proc stat: %d fields after the command name, want at least 13", len(fields))
	}
	var ticks int64
	for _, field := range fields[11:13] {
		n, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc stat: CPU time %q: %w", field, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / ClockTicks, nil
}

// parseStatus returns VmRSS and VmHWM in bytes from the content of
// /proc/PID/status, where both are given in kB (units of 1024 bytes).
func parseStatus(data []byte) (rss, hwm int64, err error) {
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		number, unit, _ := strings.Cut(strings.TrimSpace(value), " ")
		if unit != "kB" {
			return 0, 0, fmt.Errorf("parse /proc status: %s has unit %q, want kB", name, unit)
		}
		kb, err := strconv.ParseInt(number, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("parse /proc status: %s: %w", name, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("parse /proc status: %w", err)
	}
	if found < 2 {
		return 0, 0, errors.New("parse /proc status: VmRSS or VmHWM missing; is the process a zombie?")
	}
	return rss, hwm, nil
}
