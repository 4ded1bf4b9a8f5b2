package files

import "golang.org/x/sys/unix"

// noAtimeFlag keeps reads from updating a file's access time.
const noAtimeFlag = unix.O_NOATIME
