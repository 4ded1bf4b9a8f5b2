package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binDir holds the binaries built once for all tests.
var binDir string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "magpie-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	for name, pkg := range map[string]string{
		"magpie-console":   "../../console/cmd/magpie-console",
		"magpie-responder": "../../responder/cmd/magpie-responder",
		"magpie":           "../../console/cmd/magpie",
	} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", name, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// console is a running magpie-console process.
type console struct {
	dataDir string
	http    string
	grpc    string
	apiKey  string
	caPath  string
	logPath string
}

// process starts a binary with its output in logPath and stops it by pid
// when the test ends.
func process(t *testing.T, logPath string, path string, args ...string) *exec.Cmd {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(path)
	cmd := exec.Command(path, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		stop(cmd)
		logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("--- %s log (%s) ---\n%s", name, logPath, tail(out, 6000))
		}
	})
	return cmd
}

func stop(cmd *exec.Cmd) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func startConsole(t *testing.T) *console {
	t.Helper()
	dir := t.TempDir()
	c := &console{dataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "console.log")}
	process(t, c.logPath, filepath.Join(binDir, "magpie-console"), "serve", "--data-dir", c.dataDir, "--http-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0")

	addrFile := filepath.Join(c.dataDir, "addresses.json")
	waitFor(t, 30*time.Second, "console addresses file", func() bool {
		_, err := os.Stat(addrFile)
		return err == nil
	})
	raw, err := os.ReadFile(addrFile)
	if err != nil {
		t.Fatal(err)
	}
	var addrs map[string]string
	if err := json.Unmarshal(raw, &addrs); err != nil {
		t.Fatal(err)
	}
	c.http, c.grpc = addrs["http"], addrs["grpc"]
	key, err := os.ReadFile(filepath.Join(c.dataDir, "admin-api-key"))
	if err != nil {
		t.Fatal(err)
	}
	c.apiKey = strings.TrimSpace(string(key))
	c.caPath = filepath.Join(c.dataDir, "ca.pem")
	return c
}

// magpie runs the analyst CLI and returns its stdout; it fails the test when
// the command fails.
func (c *console) magpie(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := c.tryMagpie(args...)
	if err != nil {
		t.Fatalf("magpie %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func (c *console) tryMagpie(args ...string) (stdout, stderr string, err error) {
	full := append([]string{"--console", "https://" + c.http, "--api-key", c.apiKey, "--ca", c.caPath}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "magpie"), full...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// startResponder enrolls and runs a responder that reports hostname and
// collects from root. With dropDAC it runs without the capabilities that
// let root read any file, so that permission bits apply as they would to a
// plain user.
func (c *console) startResponder(t *testing.T, stateDir, hostname, root string, dropDAC bool) *exec.Cmd {
	t.Helper()
	token := strings.TrimSpace(c.magpie(t, "enroll-token", "create"))
	args := []string{"run", "--console", c.grpc, "--ca", c.caPath, "--enroll-token", token, "--state-dir", stateDir, "--root", root, "--hostname", hostname}
	bin := filepath.Join(binDir, "magpie-responder")
	logPath := filepath.Join(filepath.Dir(stateDir), hostname+".log")
	if dropDAC && os.Geteuid() == 0 {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Fatal("setpriv (util-linux) is needed to run the responder without CAP_DAC_OVERRIDE as root: apt-get install util-linux")
		}
		args = append([]string{"--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search", bin}, args...)
		return process(t, logPath, setpriv, args...)
	}
	return process(t, logPath, bin, args...)
}

// waitOnline waits until the responder with hostname is online.
func (c *console) waitOnline(t *testing.T, hostname string) string {
	t.Helper()
	var id string
	waitFor(t, 60*time.Second, "responder "+hostname+" online", func() bool {
		var list struct {
			Responders []struct {
				ID       string `json:"id"`
				Hostname string `json:"hostname"`
				Online   bool   `json:"online"`
			} `json:"responders"`
		}
		if err := json.Unmarshal([]byte(c.magpie(t, "responders", "list", "--json")), &list); err != nil {
			t.Fatal(err)
		}
		for _, r := range list.Responders {
			if r.Hostname == hostname && r.Online {
				id = r.ID
				return true
			}
		}
		return false
	})
	return id
}

// waitFor polls cond every 100ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
