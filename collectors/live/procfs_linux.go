package live

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// path joins elem to the environment's root directory.
func (e Env) path(elem ...string) string {
	root := e.Root
	if root == "" {
		root = "/"
	}
	return filepath.Join(append([]string{root}, elem...)...)
}

// stripRoot removes the root directory from an absolute link target, so a
// fixture link to Root/usr/sbin/sshd is reported as /usr/sbin/sshd. On a
// live system (Root "/" or "") it returns target unchanged.
func (e Env) stripRoot(target string) string {
	root := filepath.Clean(e.Root)
	if e.Root == "" || root == "/" {
		return target
	}
	if rest, ok := strings.CutPrefix(target, root+"/"); ok {
		return "/" + rest
	}
	return target
}

// isGone reports whether err means the process or file disappeared while
// it was being read: procfs returns ENOENT for a removed /proc/<pid> and
// ESRCH for some reads of a process that is exiting.
func isGone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// processGone reports whether /proc/<pid> no longer exists.
func processGone(env Env, pid int) bool {
	_, err := os.Lstat(env.path("proc", strconv.Itoa(pid)))
	return isGone(err)
}

// describe returns err without the file name of an *fs.PathError or
// *os.LinkError, so record error fields do not depend on Env.Root.
func describe(err error) string {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Op + ": " + pathErr.Err.Error()
	}
	var linkErr *os.LinkError
	if errors.As(err, &linkErr) {
		return linkErr.Op + ": " + linkErr.Err.Error()
	}
	return err.Error()
}

// listPIDs returns the numeric entries of /proc in ascending order.
func listPIDs(env Env) ([]int, error) {
	entries, err := os.ReadDir(env.path("proc"))
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}

	var pids []int
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil || pid <= 0 {
			continue
		}
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	return pids, nil
}

// readUserNames maps uids to user names from /etc/passwd. A missing or
// unreadable file yields an empty map, so callers fall back to numeric uids.
func readUserNames(env Env) map[uint32]string {
	names := make(map[uint32]string)

	f, err := os.Open(env.path("etc", "passwd"))
	if err != nil {
		return names
	}
	defer f.Close()

	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := scanner.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// name:password:uid:gid:gecos:home:shell
		fields := strings.Split(line, ":")
		if len(fields) < 3 {
			continue
		}
		uid, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			continue
		}
		// The first entry wins, as with getpwuid(3).
		if _, ok := names[uint32(uid)]; !ok {
			names[uint32(uid)] = fields[0]
		}
	}
	return names
}

// userName returns the name for uid, or the uid in decimal when the name
// is unknown.
func userName(names map[uint32]string, uid uint32) string {
	if name, ok := names[uid]; ok {
		return name
	}
	return strconv.FormatUint(uint64(uid), 10)
}

// readBootTime returns the boot time from the "btime" line of /proc/stat.
func readBootTime(env Env) (time.Time, error) {
	data, err := os.ReadFile(env.path("proc", "stat"))
	if err != nil {
		return time.Time{}, fmt.Errorf("read boot time: %w", err)
	}

	for line := range strings.Lines(string(data)) {
		value, ok := strings.CutPrefix(line, "btime ")
		if !ok {
			continue
		}
		sec, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("read boot time: invalid btime %q in /proc/stat", strings.TrimSpace(value))
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	return time.Time{}, errors.New("read boot time: no btime line in /proc/stat")
}

// readComm returns the command name of pid, or "" when it cannot be read.
func readComm(env Env, pid int) string {
	data, err := os.ReadFile(env.path("proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

// socketOwners maps socket inodes to the pids that hold a file descriptor
// for them, found from /proc/<pid>/fd/* links of the form "socket:[INODE]".
// Each pid list is ascending. Processes whose fd directory cannot be read
// (exited, or not permitted for a non-root caller) are left out.
func socketOwners(env Env) (map[uint64][]int, error) {
	pids, err := listPIDs(env)
	if err != nil {
		return nil, err
	}

	owners := make(map[uint64][]int)
	for _, pid := range pids {
		fdDir := env.path("proc", strconv.Itoa(pid), "fd")
		entries, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}

		for _, entry := range entries {
			target, err := os.Readlink(filepath.Join(fdDir, entry.Name()))
			if err != nil {
				continue
			}
			inode, ok := parseSocketLink(target)
			if !ok {
				continue
			}
			list := owners[inode]
			// A process may hold the same socket on several descriptors.
			if len(list) == 0 || list[len(list)-1] != pid {
				owners[inode] = append(list, pid)
			}
		}
	}
	return owners, nil
}

// parseSocketLink returns the inode of an fd link target "socket:[INODE]".
func parseSocketLink(target string) (uint64, bool) {
	rest, ok := strings.CutPrefix(target, "socket:[")
	if !ok {
		return 0, false
	}
	digits, ok := strings.CutSuffix(rest, "]")
	if !ok {
		return 0, false
	}
	inode, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return inode, true
}

// encodeLines parses each non-empty line of data, which was read from the
// file named name, and writes one JSON record per line. A line that does not
// parse is skipped and reported in the returned error after the other
// records are written.
func encodeLines[T any](ctx context.Context, w io.Writer, name string, data []byte, parse func(string) (T, error)) error {
	enc := newEncoder(w)
	var errs []error
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if err := ctx.Err(); err != nil {
			return err
		}
		if line == "" {
			continue
		}

		rec, err := parse(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("parse %s line %d: %w", name, i+1, err))
			continue
		}
		if err := enc.Encode(rec); err != nil {
			return fmt.Errorf("write %s record: %w", name, err)
		}
	}
	return errors.Join(errs...)
}
