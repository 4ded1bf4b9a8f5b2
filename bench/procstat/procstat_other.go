//go:build !linux

package procstat

import (
	"fmt"
	"runtime"
)

// Read returns ErrUnsupported: only Linux has /proc.
func Read(pid int) (Sample, error) {
	return Sample{}, fmt.Errorf("read counters of pid %d on %s: %w", pid, runtime.GOOS, ErrUnsupported)
}
