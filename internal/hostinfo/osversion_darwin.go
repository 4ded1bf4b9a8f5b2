package hostinfo

import "golang.org/x/sys/unix"

// osVersion returns "macOS" and the product version from the
// kern.osproductversion sysctl, or "macOS" alone on releases without that
// sysctl.
//
// NOTE: only cross-compiled so far. No test has run on macOS.
func osVersion() string {
	version, err := unix.Sysctl("kern.osproductversion")
	if err != nil || version == "" {
		return "macOS"
	}
	return "macOS " + version
}
