package evidence

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// ErrorText returns the reason in err without the operation and path that
// an *fs.PathError or *os.SyscallError adds, so that manifest entries read
// "open: permission denied" instead of repeating the path.
func ErrorText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err.Error()
	}
	var sysErr *os.SyscallError
	if errors.As(err, &sysErr) {
		return sysErr.Err.Error()
	}
	return err.Error()
}

func isCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
