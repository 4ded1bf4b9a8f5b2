//go:build unix && !linux

package files

// noAtimeFlag is zero where the OS has no O_NOATIME: reads may then update
// a file's access time, depending on mount options.
const noAtimeFlag = 0
