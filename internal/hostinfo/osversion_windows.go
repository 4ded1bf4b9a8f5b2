package hostinfo

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// osVersion returns the kernel version from RtlGetVersion, which, unlike
// GetVersionEx, is not capped at 6.2 for programs without a manifest.
//
// NOTE: only cross-compiled so far. No test has run on Windows.
func osVersion() string {
	v := windows.RtlGetVersion()
	return fmt.Sprintf("Windows %d.%d.%d", v.MajorVersion, v.MinorVersion, v.BuildNumber)
}
