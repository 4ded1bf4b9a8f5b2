package live

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicksPerSecond is USER_HZ, the unit of the starttime field of
// /proc/<pid>/stat. It is 100 on every architecture Magpie builds for, and
// reading the real value with sysconf(_SC_CLK_TCK) would need cgo.
const clockTicksPerSecond = 100

// processRecord is one line of the processes collector output.
type processRecord struct {
	PID  int    `json:"pid"`
	PPID int    `json:"ppid"`
	Name string `json:"name"`
	// State is the one-letter state from /proc/<pid>/stat, for example
	// "R", "S" or "Z".
	State string `json:"state"`
	// User is the name of UID, or UID in decimal when /etc/passwd has no
	// entry for it.
	User      string   `json:"user"`
	UID       uint32   `json:"uid"`
	EUID      uint32   `json:"euid"`
	StartTime string   `json:"start_time"`
	Cmdline   []string `json:"cmdline"`
	// Exe is the target of /proc/<pid>/exe. It is empty for kernel
	// threads, which have no executable.
	Exe string `json:"exe"`
	// ExeDeleted is set when the kernel marks the executable as deleted
	// from disk; ExeSHA256 is then the hash of the still-running image.
	ExeDeleted bool   `json:"exe_deleted,omitempty"`
	ExeSHA256  string `json:"exe_sha256"`
	// Error lists the fields that could not be read, separated by "; ".
	Error string `json:"error,omitempty"`
}

// fileID identifies a file by device and inode number.
type fileID struct {
	dev, ino uint64
}

// exeHasher hashes executables, hashing each (device, inode) only once
// because many processes usually share a binary.
type exeHasher struct {
	sums map[fileID]string
}

// hash returns the hex SHA-256 of the file that path opens.
func (h *exeHasher) hash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()

	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	var id fileID
	stat, ok := info.Sys().(*syscall.Stat_t)
	if ok {
		id = fileID{dev: uint64(stat.Dev), ino: stat.Ino}
		if sum, ok := h.sums[id]; ok {
			return sum, nil
		}
	}

	digest := sha256.New()
	if _, err := io.Copy(digest, f); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(digest.Sum(nil))
	if ok {
		h.sums[id] = sum
	}
	return sum, nil
}

func collectProcesses(ctx context.Context, env Env, w io.Writer) error {
	bootTime, err := readBootTime(env)
	if err != nil {
		return err
	}
	pids, err := listPIDs(env)
	if err != nil {
		return err
	}
	users := readUserNames(env)
	hasher := &exeHasher{sums: make(map[fileID]string)}
	enc := newEncoder(w)

	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return err
		}

		rec, err := readProcess(env, pid, bootTime, users, hasher)
		if err != nil {
			if isGone(err) || processGone(env, pid) {
				continue
			}
			rec = processRecord{PID: pid, Cmdline: []string{}, Error: describe(err)}
		}
		// A process that exits between the reads above leaves a record
		// made of partial data; drop it like one that exited earlier.
		if rec.Error != "" && processGone(env, pid) {
			continue
		}
		if err := enc.Encode(rec); err != nil {
			return fmt.Errorf("write process %d: %w", pid, err)
		}
	}
	return nil
}

// readProcess reads one /proc/<pid> directory. It returns an error only
// when the stat or status file cannot be read or parsed; later failures go
// into the record's Error field.
func readProcess(env Env, pid int, bootTime time.Time, users map[uint32]string, hasher *exeHasher) (processRecord, error) {
	dir := env.path("proc", strconv.Itoa(pid))

	statData, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return processRecord{}, err
	}
	stat, err := parseStat(string(statData))
	if err != nil {
		return processRecord{}, err
	}

	statusData, err := os.ReadFile(dir + "/status")
	if err != nil {
		return processRecord{}, err
	}
	uid, euid, err := parseStatusUIDs(string(statusData))
	if err != nil {
		return processRecord{}, err
	}

	rec := processRecord{
		PID:       pid,
		PPID:      stat.ppid,
		Name:      stat.comm,
		State:     stat.state,
		User:      userName(users, uid),
		UID:       uid,
		EUID:      euid,
		StartTime: formatTime(bootTime.Add(time.Duration(stat.startTicks) * time.Second / clockTicksPerSecond)),
		Cmdline:   []string{},
	}
	var problems []string

	cmdline, err := os.ReadFile(dir + "/cmdline")
	if err != nil {
		problems = append(problems, "cmdline: "+describe(err))
	} else {
		rec.Cmdline = splitCmdline(cmdline)
	}

	exe, err := os.Readlink(dir + "/exe")
	if err != nil {
		problems = append(problems, "exe: "+describe(err))
	} else {
		exe = env.stripRoot(exe)
		rec.Exe, rec.ExeDeleted = strings.CutSuffix(exe, " (deleted)")

		// Opening the exe link rather than the path it names reads the
		// image the process runs, even if the file on disk was deleted or
		// replaced.
		sum, err := hasher.hash(dir + "/exe")
		if err != nil {
			problems = append(problems, "exe_sha256: "+describe(err))
		}
		rec.ExeSHA256 = sum
	}

	rec.Error = strings.Join(problems, "; ")
	return rec, nil
}

// procStat holds the fields of /proc/<pid>/stat the collector uses.
type procStat struct {
	comm       string
	state      string
	ppid       int
	startTicks uint64
}

// parseStat parses /proc/<pid>/stat as described in proc_pid_stat(5).
func parseStat(data string) (procStat, error) {
	// comm (field 2) is in parentheses and may itself contain spaces and
	// parentheses, so split at the last ')'.
	open := strings.IndexByte(data, '(')
	closing := strings.LastIndexByte(data, ')')
	if open < 0 || closing < open {
		return procStat{}, fmt.Errorf("invalid stat %q: no (comm)", truncate(data))
	}

	// fields[0] is field 3 (state), so field N is fields[N-3].
	fields := strings.Fields(data[closing+1:])
	if len(fields) < 20 {
		return procStat{}, fmt.Errorf("invalid stat %q: %d fields after comm, expected at least 20", truncate(data), len(fields))
	}
	ppid, err := strconv.Atoi(fields[4-3])
	if err != nil {
		return procStat{}, fmt.Errorf("invalid stat ppid %q: %w", fields[4-3], err)
	}
	startTicks, err := strconv.ParseUint(fields[22-3], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("invalid stat starttime %q: %w", fields[22-3], err)
	}

	return procStat{
		comm:       data[open+1 : closing],
		state:      fields[3-3],
		ppid:       ppid,
		startTicks: startTicks,
	}, nil
}

// parseStatusUIDs returns the real and effective uid from the "Uid:" line
// of /proc/<pid>/status.
func parseStatusUIDs(data string) (uid, euid uint32, err error) {
	for line := range strings.Lines(data) {
		value, ok := strings.CutPrefix(line, "Uid:")
		if !ok {
			continue
		}
		// Real, effective, saved set and file system uid.
		fields := strings.Fields(value)
		if len(fields) < 2 {
			return 0, 0, fmt.Errorf("invalid status Uid line %q", strings.TrimSpace(line))
		}
		realUID, err := strconv.ParseUint(fields[0], 10, 32)
		if err != nil {
			return 0, 0, fmt.Errorf("invalid status Uid line %q: %w", strings.TrimSpace(line), err)
		}
		effectiveUID, err := strconv.ParseUint(fields[1], 10, 32)
		if err != nil {
			return 0, 0, fmt.Errorf("invalid status Uid line %q: %w", strings.TrimSpace(line), err)
		}
		return uint32(realUID), uint32(effectiveUID), nil
	}
	return 0, 0, errors.New("invalid status: no Uid line")
}

// splitCmdline splits the NUL-separated /proc/<pid>/cmdline.
func splitCmdline(data []byte) []string {
	s := strings.TrimSuffix(string(data), "\x00")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\x00")
}

// formatTime formats t in UTC as RFC 3339, with fractional seconds only
// when they are not zero.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const maxLen = 80
	if len(s) <= maxLen {
		return s
	}
	return s[:maxLen] + "..."
}
