//go:build !windows

package cli

import "os"

// syncDir flushes dir's entries to disk, so a rename into it survives a
// crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
