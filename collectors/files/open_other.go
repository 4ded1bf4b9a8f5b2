//go:build !unix

package files

import "os"

// openFile opens path for reading.
func openFile(path string) (*os.File, error) {
	return os.Open(path)
}
