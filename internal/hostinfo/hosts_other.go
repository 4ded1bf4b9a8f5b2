//go:build !windows

package hostinfo

func hostsPath() string {
	return "/etc/hosts"
}
