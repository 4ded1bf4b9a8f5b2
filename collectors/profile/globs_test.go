package profile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/google/go-cmp/cmp"
)

// linuxPatterns returns the linux file patterns of the named built-in
// profile.
func linuxPatterns(t *testing.T, name string) []string {
	t.Helper()
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	spec, ok := p.For("linux")
	if !ok {
		t.Fatalf("%s has no linux section", name)
	}
	return spec.Files
}

// matchesAny reports whether path matches one of patterns.
func matchesAny(t *testing.T, patterns []string, path string) bool {
	t.Helper()
	for _, pattern := range patterns {
		ok, err := doublestar.Match(pattern, path)
		if err != nil {
			t.Fatalf("Match(%q, %q) = %v", pattern, path, err)
		}
		if ok {
			return true
		}
	}
	return false
}

// Browser files that Browsing History must collect.
var browserEvidence = []string{
	// Chrome: default and numbered profiles, old and new cookie location.
	"/home/alice/.config/google-chrome/Default/History",
	"/home/alice/.config/google-chrome/Default/History-wal",
	"/home/alice/.config/google-chrome/Default/History-shm",
	"/home/alice/.config/google-chrome/Default/History-journal",
	"/home/alice/.config/google-chrome/Default/Cookies",
	"/home/alice/.config/google-chrome/Default/Network/Cookies",
	"/home/alice/.config/google-chrome/Default/Network/Cookies-journal",
	"/home/alice/.config/google-chrome/Default/Sessions/Session_13350000000000000",
	"/home/alice/.config/google-chrome/Default/Sessions/Tabs_13350000000000000",
	"/home/alice/.config/google-chrome/Default/Current Session",
	"/home/alice/.config/google-chrome/Default/Last Tabs",
	"/home/alice/.config/google-chrome/Profile 1/History",
	"/home/alice/.config/google-chrome-beta/Default/History",
	"/root/.config/google-chrome/Default/History",
	"/root/.config/google-chrome/Default/Last Session",
	// Other Chromium-based browsers.
	"/home/bob/.config/chromium/Default/History",
	"/home/bob/.config/chromium/Profile 3/Current Tabs",
	"/home/bob/snap/chromium/common/chromium/Default/History",
	"/home/bob/.config/microsoft-edge/Default/History",
	"/home/bob/.config/microsoft-edge-dev/Default/Network/Cookies",
	"/home/bob/.config/BraveSoftware/Brave-Browser/Default/History",
	"/home/bob/.config/BraveSoftware/Brave-Browser/Profile 2/Cookies-wal",
	"/home/bob/.config/opera/History",
	"/home/bob/.config/opera/Cookies",
	"/home/bob/.config/opera/Sessions/Session_13350000000000000",
	"/home/bob/.config/vivaldi/Default/History",
	"/root/.config/vivaldi/Default/History-journal",
	// Firefox from a package, a snap and a flatpak.
	"/home/alice/.mozilla/firefox/abcd1234.default-release/places.sqlite",
	"/home/alice/.mozilla/firefox/abcd1234.default-release/places.sqlite-wal",
	"/home/alice/.mozilla/firefox/abcd1234.default-release/places.sqlite-shm",
	"/home/alice/.mozilla/firefox/abcd1234.default-release/cookies.sqlite",
	"/home/alice/.mozilla/firefox/abcd1234.default-release/cookies.sqlite-journal",
	"/home/alice/.mozilla/firefox/abcd1234.default-release/sessionstore.jsonlz4",
	"/home/alice/.mozilla/firefox/abcd1234.default-release/sessionstore-backups/recovery.jsonlz4",
	"/home/alice/.mozilla/firefox/abcd1234.default-release/sessionstore-backups/previous.jsonlz4",
	"/root/.mozilla/firefox/wxyz9876.default/places.sqlite",
	"/home/carol/snap/firefox/common/.mozilla/firefox/efgh5678.default/places.sqlite",
	"/home/carol/snap/firefox/common/.mozilla/firefox/efgh5678.default/sessionstore-backups/upgrade.jsonlz4-20240101000000",
	"/home/carol/.var/app/org.mozilla.firefox/.mozilla/firefox/ijkl0000.default/cookies.sqlite",
}

// Files near the browser evidence that Browsing History must leave out.
var browserUnrelated = []string{
	"/home/alice/.config/google-chrome/Default/History Provider Cache",
	"/home/alice/.config/google-chrome/Default/History-backup",
	"/home/alice/.config/google-chrome/Default/Preferences",
	"/home/alice/.config/google-chrome/Default/Login Data",
	"/home/alice/.config/google-chrome/Default/Web Data",
	"/home/alice/.config/google-chrome/Default/Network/Network Persistent State",
	"/home/alice/.config/google-chrome/Local State",
	"/home/alice/.config/google-chrome/Crashpad/settings.dat",
	"/home/alice/.config/google-chrome/Default/Cache/Cache_Data/index",
	"/home/alice/.config/google-chrome/Default/Sessions/nested/Session_1",
	"/home/alice/Documents/History",
	"/home/alice/.config/chromium-extra/Default/History",
	"/home/alice/.mozilla/firefox/abcd1234.default-release/formhistory.sqlite",
	"/home/alice/.mozilla/firefox/abcd1234.default-release/places.sqlite.corrupt",
	"/home/alice/.mozilla/firefox/abcd1234.default-release/key4.db",
	"/home/alice/.mozilla/firefox/profiles.ini",
	"/srv/alice/.mozilla/firefox/abcd1234.default/places.sqlite",
	"/home/alice/nested/.mozilla/firefox/abcd1234.default/places.sqlite",
}

func TestBrowsingHistoryMatch(t *testing.T) {
	patterns := linuxPatterns(t, "Browsing History")

	for _, path := range browserEvidence {
		if !matchesAny(t, patterns, path) {
			t.Errorf("no pattern matches %q", path)
		}
	}
	for _, path := range browserUnrelated {
		if matchesAny(t, patterns, path) {
			t.Errorf("a pattern matches unrelated file %q", path)
		}
	}
}

// TestBrowsingHistoryGlobFixtureTree walks a directory tree the way a
// responder collects files, so it also covers how doublestar expands the
// brace alternatives while reading directories.
func TestBrowsingHistoryGlobFixtureTree(t *testing.T) {
	root := t.TempDir()
	for _, path := range slices.Concat(browserEvidence, browserUnrelated) {
		full := filepath.Join(root, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("fixture"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fsys := os.DirFS(root)

	var got []string
	for _, pattern := range linuxPatterns(t, "Browsing History") {
		matches, err := doublestar.Glob(fsys, strings.TrimPrefix(pattern, "/"), doublestar.WithFilesOnly())
		if err != nil {
			t.Fatalf("Glob(%q) = %v", pattern, err)
		}
		for _, match := range matches {
			got = append(got, "/"+match)
		}
	}
	slices.Sort(got)
	got = slices.Compact(got)

	want := slices.Sorted(slices.Values(browserEvidence))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files collected from the fixture tree (-want +got):\n%s", diff)
	}
}

func TestQuickTriageMatch(t *testing.T) {
	patterns := linuxPatterns(t, "Quick Triage")

	evidence := []string{
		"/var/log/auth.log",
		"/var/log/auth.log.1",
		"/var/log/auth.log.2.gz",
		"/var/log/syslog",
		"/var/log/secure-20240101",
		"/var/log/messages",
		"/var/log/audit/audit.log",
		"/var/log/journal/0123456789abcdef/system.journal",
		"/var/log/wtmp",
		"/var/log/btmp.1",
		"/home/alice/.bash_history",
		"/home/alice/.zsh_history",
		"/home/alice/.sh_history",
		"/home/alice/.history",
		"/home/alice/.local/share/fish/fish_history",
		"/root/.bash_history",
		"/root/.local/share/fish/fish_history",
		"/etc/passwd",
		"/etc/group",
		"/etc/shadow",
		"/etc/sudoers",
		"/etc/sudoers.d/90-cloud-init-users",
		"/etc/crontab",
		"/etc/cron.d/e2scrub_all",
		"/etc/cron.hourly/0anacron",
		"/etc/cron.daily/logrotate",
		"/etc/cron.weekly/man-db",
		"/etc/cron.monthly/backup",
		"/var/spool/cron/crontabs/alice",
		"/var/spool/cron/root",
		"/etc/systemd/system/multi-user.target.wants/backdoor.service",
		"/usr/lib/systemd/system/ssh.service",
		"/lib/systemd/system/cron.service",
		"/home/alice/.config/systemd/user/miner.service",
		"/root/.config/systemd/user/default.target.wants/agent.service",
		"/home/alice/.ssh/authorized_keys",
		"/home/alice/.ssh/known_hosts",
		"/root/.ssh/authorized_keys",
		"/root/.ssh/known_hosts",
		"/etc/ssh/sshd_config",
		"/etc/ssh/sshd_config.d/50-cloud-init.conf",
		"/etc/hosts",
		"/etc/resolv.conf",
		"/etc/ld.so.preload",
		"/var/lib/dpkg/status",
		"/var/lib/rpm/rpmdb.sqlite",
	}
	for _, path := range evidence {
		if !matchesAny(t, patterns, path) {
			t.Errorf("no pattern matches %q", path)
		}
	}

	unrelated := []string{
		"/var/log/kern.log",
		"/var/log/apt/history.log",
		"/home/alice/.bash_history.bak",
		"/home/alice/.bashrc",
		"/home/alice/.ssh/id_ed25519",
		"/root/.ssh/id_rsa",
		"/etc/passwd-",
		"/etc/ssh/ssh_host_ed25519_key",
		"/etc/cron.yearly/job",
		"/var/lib/dpkg/status-old",
		"/srv/alice/.bash_history",
		"/home/alice/projects/.bash_history",
	}
	for _, path := range unrelated {
		if matchesAny(t, patterns, path) {
			t.Errorf("a pattern matches unrelated file %q", path)
		}
	}
}
