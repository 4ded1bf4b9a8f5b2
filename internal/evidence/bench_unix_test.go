//go:build unix

package evidence

import "syscall"

func syncFileSystems() { syscall.Sync() }
