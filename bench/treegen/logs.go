package treegen

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"time"
)

// logStart is the time of the first line of every log file.
var logStart = time.Date(2026, time.March, 2, 6, 25, 1, 0, time.UTC)

var (
	logUsers    = []string{"alice", "bob", "carol", "deploy", "backup", "root", "admin", "svc-ci", "test", "oracle"}
	logServices = []string{"nginx", "postgresql", "docker", "containerd", "ssh", "cron", "rsyslog", "systemd-journald", "unattended-upgrades", "node-exporter"}
	logPaths    = []string{"/", "/login", "/api/v1/items", "/api/v1/users/me", "/static/app.js", "/static/app.css", "/healthz", "/metrics", "/favicon.ico", "/wp-login.php"}
	logAgents   = []string{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "curl/8.5.0", "Go-http-client/2.0", "Prometheus/2.51.0", "python-requests/2.31.0"}
	logCommands = []string{"/usr/lib/sysstat/debian-sa1 1 1", "test -x /etc/cron.daily/popularity-contest && /etc/cron.daily/popularity-contest --crond", "/usr/local/bin/backup.sh --incremental", "[ -x /usr/lib/php/sessionclean ] && /usr/lib/php/sessionclean"}
	logStatuses = []int{200, 200, 200, 200, 304, 301, 404, 500}
)

// writeLog writes size bytes of syslog-like lines for host hostIndex. The
// last line is cut to fit and ends with a newline.
func writeLog(w *bufio.Writer, rng *rand.Rand, size int64, hostIndex int) error {
	host := fmt.Sprintf("host%02d", hostIndex%20)
	now := logStart.Add(time.Duration(rng.IntN(86400)) * time.Second)
	line := make([]byte, 0, 512)

	var written int64
	for written < size {
		now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
		line = appendLogLine(line[:0], rng, now, host)
		if remaining := size - written; int64(len(line)) > remaining {
			line = line[:remaining]
			line[len(line)-1] = '\n'
		}
		n, err := w.Write(line)
		written += int64(n)
		if err != nil {
			return err
		}
	}
	return nil
}

// appendLogLine appends one line in the traditional syslog format:
// "Mmm dd hh:mm:ss host program[pid]: message".
func appendLogLine(b []byte, rng *rand.Rand, t time.Time, host string) []byte {
	b = t.AppendFormat(b, time.Stamp)
	b = append(b, ' ')
	b = append(b, host...)
	b = append(b, ' ')

	pid := 300 + rng.IntN(60000)
	ip := fmt.Sprintf("10.%d.%d.%d", rng.IntN(4), rng.IntN(256), 1+rng.IntN(254))
	user := pick(rng, logUsers)

	switch rng.IntN(8) {
	case 0:
		var key [32]byte
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		b = fmt.Appendf(b, "sshd[%d]: Accepted publickey for %s from %s port %d ssh2: ED25519 SHA256:%s", pid, user, ip, 1024+rng.IntN(64000), base64.RawStdEncoding.EncodeToString(key[:]))
	case 1:
		b = fmt.Appendf(b, "sshd[%d]: Failed password for invalid user %s from %s port %d ssh2", pid, user, ip, 1024+rng.IntN(64000))
	case 2:
		b = fmt.Appendf(b, "CRON[%d]: (%s) CMD (%s)", pid, user, pick(rng, logCommands))
	case 3:
		svc := pick(rng, logServices)
		b = fmt.Appendf(b, "systemd[1]: Started %s.service - %s daemon.", svc, svc)
	case 4:
		b = fmt.Appendf(b, "systemd[1]: %s.service: Deactivated successfully.", pick(rng, logServices))
	case 5:
		uptime := t.Sub(logStart).Seconds()
		b = fmt.Appendf(b, "kernel: [%.6f] audit: type=1400 audit(%d.%03d:%d): apparmor=\"ALLOWED\" operation=\"open\" profile=\"%s\" name=\"/proc/%d/status\" pid=%d comm=\"%s\" requested_mask=\"r\"",
			uptime, t.Unix(), rng.IntN(1000), rng.IntN(100000), pick(rng, logServices), pid, pid, pick(rng, logServices))
	case 6:
		b = fmt.Appendf(b, "sudo[%d]: %s : TTY=pts/%d ; PWD=/home/%s ; USER=root ; COMMAND=/usr/bin/systemctl restart %s", pid, user, rng.IntN(8), user, pick(rng, logServices))
	default:
		b = fmt.Appendf(b, "nginx[%d]: %s - - \"GET %s HTTP/1.1\" %d %d \"-\" \"%s\"", pid, ip, pick(rng, logPaths), pick(rng, logStatuses), 200+rng.IntN(90000), pick(rng, logAgents))
	}
	return append(b, '\n')
}

func pick[T any](rng *rand.Rand, items []T) T {
	return items[rng.IntN(len(items))]
}
