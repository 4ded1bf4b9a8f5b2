//go:build !linux

package evidence

import (
	"errors"
	"os"
	"runtime"
)

// reservedGap is zero where collapseRange is not available, so the body
// starts at the beginning of the spool file and Close copies it.
const reservedGap = 0

func collapseRange(*os.File, int64, int64) error {
	return errors.New("collapsing a file range is not supported on " + runtime.GOOS)
}

func blockSize(*os.File) int64 { return 0 }
