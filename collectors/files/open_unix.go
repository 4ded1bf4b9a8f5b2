//go:build unix

package files

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// openFile opens path for reading without blocking, without following a
// final symlink and, where the OS allows, without updating its access time,
// so that collection leaves the evidence's atime as it found it.
// O_NONBLOCK keeps the open from waiting on a FIFO that replaced a regular
// file after lstat, and makes /proc files such as /proc/kmsg return EAGAIN
// instead of waiting for data.
func openFile(path string) (*os.File, error) {
	flags := os.O_RDONLY | unix.O_NONBLOCK | unix.O_NOFOLLOW | unix.O_CLOEXEC
	if noAtimeFlag != 0 {
		f, err := os.OpenFile(path, flags|noAtimeFlag, 0)
		// O_NOATIME needs the file's owner or CAP_FOWNER; without them the
		// open fails with EPERM and is retried without the flag.
		if !errors.Is(err, unix.EPERM) {
			return f, err
		}
	}
	return os.OpenFile(path, flags, 0)
}
