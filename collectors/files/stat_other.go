//go:build !linux && !darwin && !windows

package files

import "os"

// lstat returns the metadata of path without following a final symlink.
// On this OS only the mode, size and modification time are recorded.
func lstat(path string) (fileStat, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return fileStat{}, err
	}
	return fileStat{mode: fi.Mode(), size: fi.Size(), mtime: fi.ModTime().UTC()}, nil
}
