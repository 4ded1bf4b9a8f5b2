//go:build !windows

package cli

const defaultStateDir = "/var/lib/magpie-responder"
