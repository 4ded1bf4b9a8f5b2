package repository

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback starts kernel writeback of the given range without waiting
// for it, so the fsync at Commit has little left to do.
func startWriteback(f *os.File, offset, length int64) {
	// An error only means the final fsync does all the work.
	_ = unix.SyncFileRange(int(f.Fd()), offset, length, unix.SYNC_FILE_RANGE_WRITE)
}
