//go:build !linux

package live

import (
	"context"
	"fmt"
	"io"
	"runtime"
)

var (
	collectProcesses      = unsupported("processes")
	collectNetworkSockets = unsupported("network_sockets")
	collectLoggedInUsers  = unsupported("logged_in_users")
	collectKernelModules  = unsupported("kernel_modules")
	collectMounts         = unsupported("mounts")
)

// unsupported returns a run function that fails with ErrNotSupported.
func unsupported(name string) func(context.Context, Env, io.Writer) error {
	return func(context.Context, Env, io.Writer) error {
		return fmt.Errorf("live collector %s: %w on %s", name, ErrNotSupported, runtime.GOOS)
	}
}
