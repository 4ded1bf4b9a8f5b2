package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes the host the benchmarks ran on. Fields that cannot
// be read are left empty or zero.
type Machine struct {
	Date time.Time
	// CPUs is the number of CPUs this process may use, as nproc prints.
	CPUs int
	// CPUModel is the first "model name" of /proc/cpuinfo.
	CPUModel string
	// SHANI reports the sha_ni flag in /proc/cpuinfo: x86 SHA extensions,
	// which speed up SHA-256.
	SHANI bool
	// MemoryBytes is MemTotal of /proc/meminfo.
	MemoryBytes int64
	// GoVersion is the Go release that built the benchmark program.
	GoVersion string
	// Kernel is /proc/sys/kernel/osrelease.
	Kernel string
	OS     string
	Arch   string
	// LoadBefore and LoadAfter are the 1, 5 and 15 minute load averages
	// from /proc/loadavg when the benchmarks started and ended. Other
	// work on the machine shows here and slows the results.
	LoadBefore string
	LoadAfter  string
}

// readLoad returns the three load averages of /proc/loadavg, or "".
func readLoad() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return ""
	}
	return strings.Join(fields[:3], " ")
}

// readMachine describes this host.
func readMachine() Machine {
	m := Machine{
		Date:      time.Now(),
		CPUs:      runtime.NumCPU(),
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,

		LoadBefore: readLoad(),
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel, m.SHANI = parseCPUInfo(data)
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemoryBytes = parseMemTotal(data)
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}

// parseCPUInfo returns the first model name in /proc/cpuinfo and whether
// any flags line lists sha_ni.
func parseCPUInfo(data []byte) (model string, shaNI bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "model name":
			if model == "" {
				model = strings.TrimSpace(value)
			}
		case "flags":
			for _, flag := range strings.Fields(value) {
				if flag == "sha_ni" {
					shaNI = true
				}
			}
		}
	}
	return model, shaNI
}

// parseMemTotal returns MemTotal from /proc/meminfo in bytes, or 0.
func parseMemTotal(data []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "MemTotal:" && fields[2] == "kB" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
