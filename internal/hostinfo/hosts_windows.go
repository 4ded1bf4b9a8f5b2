package hostinfo

import (
	"os"
	"path/filepath"
)

// hostsPath returns the hosts file under %SystemRoot%.
func hostsPath() string {
	root := os.Getenv("SystemRoot")
	if root == "" {
		root = `C:\Windows`
	}
	return filepath.Join(root, "System32", "drivers", "etc", "hosts")
}
