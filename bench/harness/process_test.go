package harness

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func newTestLab(t *testing.T) *Lab {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("uses POSIX signals and sh")
	}
	binDir := t.TempDir()
	for _, b := range []string{ConsoleBinary, ResponderBinary, CLIBinary} {
		if err := os.WriteFile(filepath.Join(binDir, b), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	lab, err := NewLab(binDir, t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close(false) })
	return lab
}

func shell(t *testing.T) string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("needs sh")
	}
	return sh
}

func TestStopInterrupts(t *testing.T) {
	lab := newTestLab(t)
	p, err := lab.Start("sleeper", nil, shell(t), "-c", "exec sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !p.Exited() {
		t.Error("process still running after Stop")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Stop took %v, want the interrupt to end sleep at once", took)
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	lab := newTestLab(t)
	// The shell ignores SIGINT, so only the kill after the grace period
	// ends it. The marker file shows that the trap is in place.
	marker := filepath.Join(lab.Dir, "ready")
	p, err := lab.Start("stubborn", nil, shell(t), "-c", `trap "" INT; touch "$0"; while :; do sleep 1; done`, marker)
	if err != nil {
		t.Fatal(err)
	}
	err = WaitFor(context.Background(), 10*time.Second, "trap installed", p, func() (bool, error) {
		_, err := os.Stat(marker)
		return err == nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}

	err = p.Stop(200 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "was killed") {
		t.Errorf("Stop = %v, want an error saying the process was killed", err)
	}
	if !p.Exited() {
		t.Error("process still running after Stop")
	}
}

func TestStartEnvAndLog(t *testing.T) {
	lab := newTestLab(t)
	p, err := lab.Start("printer", []string{"BENCH_TEST_VALUE=hello"}, shell(t), "-c", `echo "value=$BENCH_TEST_VALUE"`)
	if err != nil {
		t.Fatal(err)
	}
	<-p.done
	out, err := os.ReadFile(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != "value=hello" {
		t.Errorf("log = %q, want %q", got, "value=hello")
	}
}

func TestWaitForExitedProcess(t *testing.T) {
	lab := newTestLab(t)
	p, err := lab.Start("quitter", nil, shell(t), "-c", "exit 3")
	if err != nil {
		t.Fatal(err)
	}
	err = WaitFor(context.Background(), time.Minute, "never", p, func() (bool, error) { return false, nil })
	if err == nil || !strings.Contains(err.Error(), "exited early") {
		t.Errorf("WaitFor = %v, want an error saying the process exited early", err)
	}
}

func TestNewLabMissingBinary(t *testing.T) {
	_, err := NewLab(t.TempDir(), t.TempDir(), "test")
	if err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("NewLab with an empty bin directory = %v, want an error naming 'make build'", err)
	}
}

func TestCloseRemovesDir(t *testing.T) {
	lab := newTestLab(t)
	if _, err := lab.Start("sleeper", nil, shell(t), "-c", "exec sleep 60"); err != nil {
		t.Fatal(err)
	}
	if err := lab.Close(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lab.Dir); !os.IsNotExist(err) {
		t.Errorf("lab directory still exists after Close: %v", err)
	}
}
