//go:build !linux && !windows && !darwin

package hostinfo

import "runtime"

func osVersion() string {
	return runtime.GOOS
}
