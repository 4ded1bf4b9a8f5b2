//go:build unix

package files

import (
	"os"

	"golang.org/x/sys/unix"
)

// openFile opens path for reading without blocking and without following a
// final symlink. O_NONBLOCK keeps the open from waiting on a FIFO that
// replaced a regular file after lstat, and makes /proc files such as
// /proc/kmsg return EAGAIN instead of waiting for data.
func openFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}
