package files

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// maxIDFileSize caps how much of /etc/passwd and /etc/group is read.
const maxIDFileSize = 16 << 20

// idNames maps numeric user and group ids to names, as the collection
// root's /etc/passwd and /etc/group define them. The host's own account
// database is not used, because the ids in an image belong to the image's
// accounts.
type idNames struct {
	users  map[uint32]string
	groups map[uint32]string
}

func loadIDNames(root string) idNames {
	return idNames{
		users:  readIDFile(root, "/etc/passwd"),
		groups: readIDFile(root, "/etc/group"),
	}
}

// readIDFile parses name:x:id:... lines from the file at inside path p. A
// missing or unreadable file gives an empty map; the first name for an id
// wins, as with getpwuid.
func readIDFile(root, p string) map[uint32]string {
	names := make(map[uint32]string)
	host, err := securejoin.SecureJoin(root, p)
	if err != nil {
		return names
	}
	f, err := openFile(host)
	if err != nil {
		return names
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return names
	}

	sc := bufio.NewScanner(io.LimitReader(f, maxIDFileSize))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(line, ":", 4)
		if len(fields) < 3 || fields[0] == "" {
			continue
		}
		id, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			continue
		}
		if _, dup := names[uint32(id)]; !dup {
			names[uint32(id)] = fields[0]
		}
	}
	return names
}
