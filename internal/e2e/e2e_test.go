package e2e

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// triggerReply is the trigger call's reply body.
type triggerReply struct {
	Success bool `json:"success"`
	Data    *struct {
		Parser             string   `json:"parser"`
		AcquisitionProfile string   `json:"acquisitionProfile"`
		Endpoints          []string `json:"endpoints"`
		TaskID             string   `json:"taskId"`
		NotFound           []string `json:"notFound"`
	} `json:"data"`
	Error *struct {
		Message    string   `json:"message"`
		NotFound   []string `json:"notFound"`
		Candidates []string `json:"candidates"`
	} `json:"error"`
}

// manifest is the part of manifest.json the tests check.
type manifest struct {
	TaskID    string `json:"task_id"`
	Profile   string `json:"profile"`
	Responder struct {
		ID       string `json:"id"`
		Hostname string `json:"hostname"`
	} `json:"responder"`
	Files   []fileEntry `json:"files"`
	Summary struct {
		FilesCollected int64 `json:"files_collected"`
		BytesCollected int64 `json:"bytes_collected"`
	} `json:"summary"`
}

type fileEntry struct {
	Path          string   `json:"path"`
	PathRawBase64 string   `json:"path_raw_base64"`
	ArchivePath   string   `json:"archive_path"`
	Type          string   `json:"type"`
	Size          int64    `json:"size"`
	SHA256        string   `json:"sha256"`
	Skipped       string   `json:"skipped"`
	Error         string   `json:"error"`
	Flags         []string `json:"flags"`
}

type trigger struct {
	Name  string `json:"name"`
	Token string `json:"token"`
	URL   string `json:"url"`
}

func (c *console) createTrigger(t *testing.T, name, profile string) trigger {
	t.Helper()
	var tr trigger
	out := c.magpie(t, "triggers", "create", "--name", name, "--profile", profile, "--json")
	if err := json.Unmarshal([]byte(out), &tr); err != nil {
		t.Fatalf("triggers create --json output %q: %v", out, err)
	}
	if tr.Token == "" || !strings.Contains(tr.URL, "{endpoint}") {
		t.Fatalf("triggers create --json = %+v, want a token and a URL with {endpoint}", tr)
	}
	return tr
}

// call fires a trigger URL with endpoint and returns the status and reply.
func (c *console) call(t *testing.T, url, endpoint string) (int, triggerReply) {
	t.Helper()
	caPEM, err := os.ReadFile(c.caPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(strings.ReplaceAll(url, "{endpoint}", endpoint))
	if err != nil {
		t.Fatalf("trigger call: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var reply triggerReply
	if err := json.Unmarshal(body, &reply); err != nil {
		t.Fatalf("trigger reply %q is not JSON: %v", body, err)
	}
	return resp.StatusCode, reply
}

// collect fires the trigger for endpoint, waits for the task, downloads and
// verifies the package, extracts it with GNU tar and returns the directory
// and the manifest.
func (c *console) collect(t *testing.T, tr trigger, endpoint string) (string, manifest) {
	t.Helper()
	code, reply := c.call(t, tr.URL, endpoint)
	if code != http.StatusOK || !reply.Success || reply.Data == nil {
		t.Fatalf("trigger call for %q: status %d, reply %+v", endpoint, code, reply)
	}
	task := reply.Data.TaskID
	c.magpie(t, "tasks", "wait", task, "--timeout", "120s")

	dir := t.TempDir()
	pkg := filepath.Join(dir, "evidence.tar.zst")
	c.magpie(t, "evidence", "download", task, "-o", pkg)
	c.magpie(t, "evidence", "verify", pkg)

	sidecar := exec.Command("sha256sum", "-c", filepath.Base(pkg)+".sha256")
	sidecar.Dir = dir
	if out, err := sidecar.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c on the downloaded package: %v\n%s", err, out)
	}
	list, err := exec.Command("tar", "--zstd", "-tf", pkg).Output()
	if err != nil {
		t.Fatalf("tar --zstd -tf: %v", err)
	}
	if first, _, _ := strings.Cut(string(list), "\n"); first != "manifest.json" {
		t.Fatalf("first package entry = %q, want manifest.json", first)
	}
	extracted := filepath.Join(dir, "x")
	os.Mkdir(extracted, 0o755)
	if out, err := exec.Command("tar", "--zstd", "-xf", pkg, "-C", extracted).CombinedOutput(); err != nil {
		t.Fatalf("tar --zstd -xf: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(extracted, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if m.TaskID != task {
		t.Fatalf("manifest task_id = %q, want %q", m.TaskID, task)
	}

	var shown struct {
		Assignments []struct {
			FilesDone int64 `json:"files_done"`
			BytesRead int64 `json:"bytes_read"`
		} `json:"assignments"`
	}
	if err := json.Unmarshal([]byte(c.magpie(t, "tasks", "show", task, "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if a := shown.Assignments[0]; a.FilesDone != m.Summary.FilesCollected || a.BytesRead != m.Summary.BytesCollected {
		t.Errorf("task reports %d files, %d bytes; manifest has %d files, %d bytes", a.FilesDone, a.BytesRead, m.Summary.FilesCollected, m.Summary.BytesCollected)
	}
	return extracted, m
}

// sha256sumOf hashes a file with the sha256sum tool, an independent reader.
func sha256sumOf(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("sha256sum", path).Output()
	if err != nil {
		t.Fatalf("sha256sum %s: %v", path, err)
	}
	sum, _, _ := strings.Cut(string(out), " ")
	return sum
}

func TestTriggerToVerifiedPackage(t *testing.T) {
	for _, tool := range []string{"tar", "zstd", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed as an independent reader: apt-get install tar zstd coreutils", tool)
		}
	}
	c := startConsole(t)
	fx := newFixture(t)
	c.startResponder(t, filepath.Join(t.TempDir(), "state"), "ws-e2e-01", fx.root, true)
	c.waitOnline(t, "ws-e2e-01")

	triage := c.createTrigger(t, "e2e-triage", "Quick Triage")
	code, reply := c.call(t, triage.URL, "WS-E2E-01.")
	if code != http.StatusOK {
		t.Fatalf("trigger call status = %d, reply %+v", code, reply)
	}
	if reply.Data.Parser != "URL" || reply.Data.AcquisitionProfile != "Quick Triage" {
		t.Errorf("reply data = %+v, want parser URL and profile Quick Triage", reply.Data)
	}
	if len(reply.Data.Endpoints) != 1 || reply.Data.Endpoints[0] != "ws-e2e-01" {
		t.Errorf("reply endpoints = %v, want [ws-e2e-01]", reply.Data.Endpoints)
	}
	c.magpie(t, "tasks", "wait", reply.Data.TaskID, "--timeout", "120s")

	dir, m := c.collect(t, triage, "ws-e2e-01")
	fx.stopGrowing()
	browsingDir, browsing := c.collect(t, c.createTrigger(t, "e2e-browsing", "Browsing History"), "ws-e2e-01")

	byPath := make(map[string]int)
	for i, f := range m.Files {
		byPath[f.Path] = i
	}
	for i, f := range browsing.Files {
		byPath["browsing:"+f.Path] = i
	}

	check := func(extractedDir string, entries manifest, key, path string) {
		t.Helper()
		i, ok := byPath[key]
		if !ok {
			t.Errorf("%s: not in the manifest", path)
			return
		}
		e := entries.Files[i]
		want, err := os.ReadFile(filepath.Join(fx.root, path))
		if err != nil {
			t.Fatal(err)
		}
		archived := filepath.Join(extractedDir, filepath.FromSlash(e.ArchivePath))
		got, err := os.ReadFile(archived)
		if err != nil {
			t.Errorf("%s: archive path %q not extracted: %v", path, e.ArchivePath, err)
			return
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: archived bytes differ from the source (%d vs %d bytes)", path, len(got), len(want))
		}
		if sum := sha256sumOf(t, archived); sum != e.SHA256 {
			t.Errorf("%s: sha256sum %s, manifest %s", path, sum, e.SHA256)
		}
		if e.ArchivePath != "files"+path && utf8Valid(path) {
			t.Errorf("%s: archive path %q, want %q", path, e.ArchivePath, "files"+path)
		}
	}
	for _, p := range fx.collected {
		if strings.Contains(p, "google-chrome") || strings.Contains(p, "mozilla") {
			check(browsingDir, browsing, "browsing:"+p, p)
			continue
		}
		check(dir, m, p, p)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, ok := byPath["browsing:/home/u1/.mozilla/firefox/abcd1234.default-release/places.sqlite"+suffix]; !ok {
			t.Errorf("Firefox places.sqlite%s not collected", suffix)
		}
	}

	t.Run("non-UTF-8 name", func(t *testing.T) {
		found := false
		for _, f := range m.Files {
			raw, _ := base64.StdEncoding.DecodeString(f.PathRawBase64)
			if string(raw) != fx.nonUTF8 {
				continue
			}
			found = true
			got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.ArchivePath)))
			if err != nil {
				t.Fatalf("archive path %q: %v", f.ArchivePath, err)
			}
			if string(got) != "latin-1 named log\n" {
				t.Errorf("content = %q", got)
			}
		}
		if !found {
			t.Errorf("no manifest entry with path_raw_base64 for %q", fx.nonUTF8)
		}
	})

	entry := func(t *testing.T, path string) fileEntry {
		t.Helper()
		i, ok := byPath[path]
		if !ok {
			t.Fatalf("%s: not in the manifest", path)
		}
		return m.Files[i]
	}

	t.Run("unreadable file", func(t *testing.T) {
		e := entry(t, fx.unreadable)
		if e.Error == "" || e.ArchivePath != "" {
			t.Errorf("unreadable file entry = %+v, want an error and no content", e)
		}
	})

	t.Run("fifo skipped", func(t *testing.T) {
		e := entry(t, fx.fifo)
		if e.Type != "fifo" || e.Skipped == "" || e.ArchivePath != "" {
			t.Errorf("fifo entry = %+v, want type fifo, skipped, no content", e)
		}
	})

	t.Run("symlink loops end", func(t *testing.T) {
		for _, p := range []string{"/var/log/auth.log.1", "/var/log/auth.log.2"} {
			if e := entry(t, p); e.Type != "symlink" {
				t.Errorf("%s entry = %+v, want a symlink entry", p, e)
			}
		}
		for _, f := range m.Files {
			if strings.Count(f.Path, "/parent") > 1 {
				t.Fatalf("walker followed the directory loop: %s", f.Path)
			}
		}
	})

	t.Run("growing file", func(t *testing.T) {
		e := entry(t, fx.growing)
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.ArchivePath)))
		if err != nil {
			t.Fatal(err)
		}
		now, err := os.ReadFile(filepath.Join(fx.root, fx.growing))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(got)) != e.Size || !bytes.HasPrefix(now, got) {
			t.Errorf("archived %d bytes (manifest size %d) are not a prefix of the file's %d bytes", len(got), e.Size, len(now))
		}
		sum := sha256.Sum256(got)
		if hex.EncodeToString(sum[:]) != e.SHA256 {
			t.Errorf("growing file hash does not match its archived bytes")
		}
		t.Logf("growing file: %d bytes archived, flags %v", len(got), e.Flags)
	})
}

func utf8Valid(s string) bool {
	return strings.ToValidUTF8(s, "\uFFFD") == s
}
