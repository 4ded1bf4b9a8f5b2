package live

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"time"
)

// Layout of struct utmp in glibc on Linux (utmp(5), bits/utmp.h). On
// 64-bit platforms glibc keeps ut_session and ut_tv 32-bit so the file
// format matches 32-bit programs; the record is 384 bytes everywhere.
const (
	utmpRecordSize = 384

	utmpTypeOffset    = 0   // int16 ut_type, then 2 bytes of padding
	utmpPIDOffset     = 4   // int32 ut_pid
	utmpLineOffset    = 8   // char ut_line[32]
	utmpUserOffset    = 44  // char ut_user[32], after char ut_id[4]
	utmpHostOffset    = 76  // char ut_host[256]
	utmpSessionOffset = 336 // int32 ut_session, after struct exit_status
	utmpSecOffset     = 340 // int32 ut_tv.tv_sec
	utmpUsecOffset    = 344 // int32 ut_tv.tv_usec
	utmpAddrOffset    = 348 // int32 ut_addr_v6[4], network byte order

	utmpLineSize = 32
	utmpUserSize = 32
	utmpHostSize = 256

	// utmpUserProcess is USER_PROCESS, the ut_type of a login session.
	utmpUserProcess = 7
)

// loginRecord is one line of the logged_in_users output.
type loginRecord struct {
	User string `json:"user"`
	// TTY is ut_line, the terminal without "/dev/", for example "pts/0".
	TTY string `json:"tty"`
	// Host is the remote host name for remote logins, or the X display.
	Host      string `json:"host"`
	PID       int32  `json:"pid"`
	Session   int32  `json:"session"`
	LoginTime string `json:"login_time"`
	// Address is the remote IP address, or empty when utmp has none.
	Address string `json:"address"`
}

// utmpPaths are the utmp locations under Env.Root, in the order tried.
var utmpPaths = [][]string{
	{"run", "utmp"},
	{"var", "run", "utmp"},
}

func collectLoggedInUsers(ctx context.Context, env Env, w io.Writer) error {
	var data []byte
	var err error
	for _, elem := range utmpPaths {
		data, err = os.ReadFile(env.path(elem...))
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read utmp: no file at /run/utmp or /var/run/utmp: %w", fs.ErrNotExist)
	}
	if err != nil {
		return fmt.Errorf("read utmp: %w", err)
	}

	enc := newEncoder(w)
	for offset := 0; offset+utmpRecordSize <= len(data); offset += utmpRecordSize {
		if err := ctx.Err(); err != nil {
			return err
		}

		rec, ok := parseUtmpRecord(data[offset : offset+utmpRecordSize])
		if !ok {
			continue
		}
		if err := enc.Encode(rec); err != nil {
			return fmt.Errorf("write login: %w", err)
		}
	}

	if extra := len(data) % utmpRecordSize; extra != 0 {
		return fmt.Errorf("read utmp: %d bytes after the last full %d-byte record; the file is truncated or not in the glibc utmp format", extra, utmpRecordSize)
	}
	return nil
}

// parseUtmpRecord decodes one utmp record. It returns false for records
// that are not USER_PROCESS (boot time, run level, dead processes, ...).
func parseUtmpRecord(b []byte) (loginRecord, bool) {
	// utmp files are written in host byte order.
	order := binary.NativeEndian
	if int16(order.Uint16(b[utmpTypeOffset:])) != utmpUserProcess {
		return loginRecord{}, false
	}

	sec := int64(int32(order.Uint32(b[utmpSecOffset:])))
	usec := int64(int32(order.Uint32(b[utmpUsecOffset:])))

	return loginRecord{
		User:      cString(b[utmpUserOffset : utmpUserOffset+utmpUserSize]),
		TTY:       cString(b[utmpLineOffset : utmpLineOffset+utmpLineSize]),
		Host:      cString(b[utmpHostOffset : utmpHostOffset+utmpHostSize]),
		PID:       int32(order.Uint32(b[utmpPIDOffset:])),
		Session:   int32(order.Uint32(b[utmpSessionOffset:])),
		LoginTime: formatTime(time.Unix(sec, usec*int64(time.Microsecond))),
		Address:   utmpAddress(b[utmpAddrOffset : utmpAddrOffset+16]),
	}, true
}

// utmpAddress decodes ut_addr_v6. An IPv4 address fills only the first
// word; all zeros means no address.
func utmpAddress(b []byte) string {
	if bytes.Equal(b, make([]byte, 16)) {
		return ""
	}
	if bytes.Equal(b[4:], make([]byte, 12)) {
		return netip.AddrFrom4([4]byte(b[:4])).String()
	}
	return netip.AddrFrom16([16]byte(b)).String()
}

// cString returns b up to its first NUL byte.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
