//go:build !linux

package repository

import "os"

// startWriteback does nothing where sync_file_range is missing; the fsync
// at Commit writes everything.
func startWriteback(f *os.File, offset, length int64) {}
