package live

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// inetSocketRecord is one TCP or UDP socket in the network_sockets output.
type inetSocketRecord struct {
	// Protocol is "tcp", "tcp6", "udp" or "udp6", after the /proc/net
	// file the socket was listed in.
	Protocol      string `json:"protocol"`
	LocalAddress  string `json:"local_address"`
	LocalPort     uint16 `json:"local_port"`
	RemoteAddress string `json:"remote_address"`
	RemotePort    uint16 `json:"remote_port"`
	State         string `json:"state"`
	UID           uint32 `json:"uid"`
	Inode         uint64 `json:"inode"`
	socketOwner
}

// unixSocketRecord is one Unix domain socket in the network_sockets output.
type unixSocketRecord struct {
	Protocol string `json:"protocol"`
	// Path is the bound path, "@name" for an abstract socket, or empty for
	// an unbound socket.
	Path  string `json:"path"`
	Inode uint64 `json:"inode"`
	Type  string `json:"type"`
	State string `json:"state"`
	socketOwner
}

// socketOwner names the processes holding a socket.
type socketOwner struct {
	// PID is the lowest pid holding the socket, and Process its command
	// name. Both are omitted when no process holds it (a TCP socket in
	// TIME_WAIT, for example) or the fd directories were not readable.
	PID     int    `json:"pid,omitempty"`
	Process string `json:"process,omitempty"`
	// PIDs lists every holder when there is more than one, as after a
	// fork.
	PIDs []int `json:"pids,omitempty"`
}

// tcpStates names the st column of /proc/net/tcp, from the TCP_* enum in
// the kernel's include/net/tcp_states.h.
var tcpStates = map[uint64]string{
	0x01: "ESTABLISHED",
	0x02: "SYN_SENT",
	0x03: "SYN_RECV",
	0x04: "FIN_WAIT1",
	0x05: "FIN_WAIT2",
	0x06: "TIME_WAIT",
	0x07: "CLOSE",
	0x08: "CLOSE_WAIT",
	0x09: "LAST_ACK",
	0x0A: "LISTEN",
	0x0B: "CLOSING",
	0x0C: "NEW_SYN_RECV",
}

// udpStates names the st column of /proc/net/udp. UDP reuses the TCP
// numbers: a connected socket is ESTABLISHED, any other is CLOSE, which
// ss(8) shows as UNCONN.
var udpStates = map[uint64]string{
	0x01: "ESTABLISHED",
	0x07: "UNCONN",
}

// unixTypes names the Type column of /proc/net/unix (SOCK_* values).
var unixTypes = map[uint64]string{
	1: "STREAM",
	2: "DGRAM",
	5: "SEQPACKET",
}

// unixStates names the St column of /proc/net/unix (the socket_state enum
// in include/uapi/linux/net.h).
var unixStates = map[uint64]string{
	0: "FREE",
	1: "UNCONNECTED",
	2: "CONNECTING",
	3: "CONNECTED",
	4: "DISCONNECTING",
}

// unixFlagAcceptConn is __SO_ACCEPTCON in the Flags column of
// /proc/net/unix, set on a listening socket.
const unixFlagAcceptConn = 0x10000

// collectNetworkSockets lists the sockets of /proc/net, which shows the
// network namespace of the reading process.
//
// NOTE: sockets that exist only in other network namespaces, such as those
// of containers, are not listed.
func collectNetworkSockets(ctx context.Context, env Env, w io.Writer) error {
	owners, err := socketOwners(env)
	if err != nil {
		return err
	}
	names := make(map[int]string)
	ownerOf := func(inode uint64) socketOwner {
		pids := owners[inode]
		if len(pids) == 0 {
			return socketOwner{}
		}
		name, ok := names[pids[0]]
		if !ok {
			name = readComm(env, pids[0])
			names[pids[0]] = name
		}
		owner := socketOwner{PID: pids[0], Process: name}
		if len(pids) > 1 {
			owner.PIDs = pids
		}
		return owner
	}

	enc := newEncoder(w)
	var errs []error
	for _, protocol := range []string{"tcp", "tcp6", "udp", "udp6", "unix"} {
		if err := ctx.Err(); err != nil {
			return err
		}

		data, err := os.ReadFile(env.path("proc", "net", protocol))
		if errors.Is(err, os.ErrNotExist) {
			// A kernel without IPv6 has no tcp6 and udp6.
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("read /proc/net/%s: %w", protocol, err))
			continue
		}

		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		// lines[0] is the column header.
		for i, line := range lines[1:] {
			var rec any
			var err error
			if protocol == "unix" {
				rec, err = parseUnixSocket(line, ownerOf)
			} else {
				rec, err = parseInetSocket(protocol, line, ownerOf)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("parse /proc/net/%s line %d: %w", protocol, i+2, err))
				continue
			}
			if err := enc.Encode(rec); err != nil {
				return fmt.Errorf("write socket: %w", err)
			}
		}
	}
	return errors.Join(errs...)
}

// parseInetSocket parses one line of /proc/net/{tcp,tcp6,udp,udp6}:
//
//	sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
func parseInetSocket(protocol, line string, ownerOf func(uint64) socketOwner) (inetSocketRecord, error) {
	fields := strings.Fields(line)
	if len(fields) < 10 {
		return inetSocketRecord{}, fmt.Errorf("%d fields, expected at least 10", len(fields))
	}

	localAddr, localPort, err := parseHexAddrPort(fields[1])
	if err != nil {
		return inetSocketRecord{}, fmt.Errorf("local address: %w", err)
	}
	remoteAddr, remotePort, err := parseHexAddrPort(fields[2])
	if err != nil {
		return inetSocketRecord{}, fmt.Errorf("remote address: %w", err)
	}
	st, err := strconv.ParseUint(fields[3], 16, 8)
	if err != nil {
		return inetSocketRecord{}, fmt.Errorf("invalid state %q", fields[3])
	}
	uid, err := strconv.ParseUint(fields[7], 10, 32)
	if err != nil {
		return inetSocketRecord{}, fmt.Errorf("invalid uid %q", fields[7])
	}
	inode, err := strconv.ParseUint(fields[9], 10, 64)
	if err != nil {
		return inetSocketRecord{}, fmt.Errorf("invalid inode %q", fields[9])
	}

	states := tcpStates
	if strings.HasPrefix(protocol, "udp") {
		states = udpStates
	}
	state, ok := states[st]
	if !ok {
		state = fmt.Sprintf("UNKNOWN(%#02x)", st)
	}

	rec := inetSocketRecord{
		Protocol:      protocol,
		LocalAddress:  localAddr.String(),
		LocalPort:     localPort,
		RemoteAddress: remoteAddr.String(),
		RemotePort:    remotePort,
		State:         state,
		UID:           uint32(uid),
		Inode:         inode,
	}
	// Inode 0 marks a socket no file descriptor refers to (TIME_WAIT).
	if inode != 0 {
		rec.socketOwner = ownerOf(inode)
	}
	return rec, nil
}

// parseHexAddrPort decodes "ADDR:PORT" from /proc/net/tcp and friends.
// The kernel prints the address as 32-bit words in host byte order (%08X of
// each word, 1 word for IPv4 and 4 for IPv6), and the port as a plain
// 16-bit number.
func parseHexAddrPort(s string) (netip.Addr, uint16, error) {
	hexAddr, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return netip.Addr{}, 0, fmt.Errorf("invalid address %q: no ':'", s)
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("invalid port in %q", s)
	}
	raw, err := hex.DecodeString(hexAddr)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.Addr{}, 0, fmt.Errorf("invalid address %q: expected 8 or 32 hex digits", s)
	}

	// Each printed word is the host-order value of 4 bytes stored in
	// network order. Storing the value back in host order recovers the
	// network-order bytes.
	for i := 0; i < len(raw); i += 4 {
		word := binary.BigEndian.Uint32(raw[i:])
		binary.NativeEndian.PutUint32(raw[i:], word)
	}

	addr, _ := netip.AddrFromSlice(raw)
	return addr, uint16(port), nil
}

// parseUnixSocket parses one line of /proc/net/unix:
//
//	Num RefCount Protocol Flags Type St Inode Path
//
// Path is absent for an unbound socket and may contain spaces.
func parseUnixSocket(line string, ownerOf func(uint64) socketOwner) (unixSocketRecord, error) {
	fields, path := splitFields(line, 7)
	if len(fields) < 7 {
		return unixSocketRecord{}, fmt.Errorf("%d fields, expected at least 7", len(fields))
	}

	flags, err := strconv.ParseUint(fields[3], 16, 32)
	if err != nil {
		return unixSocketRecord{}, fmt.Errorf("invalid flags %q", fields[3])
	}
	typ, err := strconv.ParseUint(fields[4], 16, 16)
	if err != nil {
		return unixSocketRecord{}, fmt.Errorf("invalid type %q", fields[4])
	}
	st, err := strconv.ParseUint(fields[5], 16, 8)
	if err != nil {
		return unixSocketRecord{}, fmt.Errorf("invalid state %q", fields[5])
	}
	inode, err := strconv.ParseUint(fields[6], 10, 64)
	if err != nil {
		return unixSocketRecord{}, fmt.Errorf("invalid inode %q", fields[6])
	}

	typeName, ok := unixTypes[typ]
	if !ok {
		typeName = fmt.Sprintf("UNKNOWN(%d)", typ)
	}
	state, ok := unixStates[st]
	if !ok {
		state = fmt.Sprintf("UNKNOWN(%d)", st)
	}
	if flags&unixFlagAcceptConn != 0 {
		state = "LISTEN"
	}

	return unixSocketRecord{
		Protocol:    "unix",
		Path:        path,
		Inode:       inode,
		Type:        typeName,
		State:       state,
		socketOwner: ownerOf(inode),
	}, nil
}

// splitFields splits the first n space-separated fields off line and
// returns them with the rest of the line, without its leading spaces.
func splitFields(line string, n int) (fields []string, rest string) {
	rest = line
	for len(fields) < n {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		field, after, _ := strings.Cut(rest, " ")
		fields = append(fields, field)
		rest = after
	}
	return fields, strings.TrimLeft(rest, " \t")
}
