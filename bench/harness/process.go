// Package harness starts the real Magpie binaries on 127.0.0.1 for the
// benchmarks, talks to the console's HTTPS API, and stops every process it
// started by its pid.
package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// stopGrace is how long Stop waits after the interrupt signal before it
// kills a process. The console waits up to its own shutdown timeout for
// uploads in flight, so this is longer.
const stopGrace = 30 * time.Second

// Process is a program started by a Lab.
type Process struct {
	// Name identifies the process in errors.
	Name string
	// LogPath receives the process's stdout and stderr.
	LogPath string

	cmd     *exec.Cmd
	logFile *os.File
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
}

// startProcess starts bin with args and its output in logPath. env is
// added to the harness's own environment.
func startProcess(name, logPath string, env []string, bin string, args ...string) (*Process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log of %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, logFile: logFile, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// PID returns the process ID.
func (p *Process) PID() int {
	return p.cmd.Process.Pid
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitError returns an error for a process that ended before the harness
// stopped it, naming its log.
func (p *Process) exitError() error {
	return fmt.Errorf("%s (pid %d) exited early: %v; see %s", p.Name, p.PID(), p.waitErr, p.LogPath)
}

// Stop sends the process an interrupt signal, waits up to grace for it to
// exit, and kills it after that. It only ever signals this process's pid.
// Stopping an exited process does nothing.
func (p *Process) Stop(grace time.Duration) error {
	if p.Exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %s (pid %d): %w", p.Name, p.PID(), err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", p.Name, p.PID(), err)
	}
	<-p.done
	return fmt.Errorf("%s (pid %d) did not exit within %v of the interrupt signal and was killed", p.Name, p.PID(), grace)
}

// Lab owns the processes and the temporary directory of one benchmark
// run.
type Lab struct {
	// BinDir contains magpie-console, magpie-responder and magpie.
	BinDir string
	// Dir is the lab's temporary directory: data and state directories,
	// logs and outputs.
	Dir string

	procs []*Process
}

// NewLab creates a temporary directory in parent (os.TempDir when empty)
// named after name.
func NewLab(binDir, parent, name string) (*Lab, error) {
	for _, b := range []string{ConsoleBinary, ResponderBinary, CLIBinary} {
		if _, err := os.Stat(filepath.Join(binDir, b)); err != nil {
			return nil, fmt.Errorf("binary %s not found in %s: run 'make build' first: %w", b, binDir, err)
		}
	}
	dir, err := os.MkdirTemp(parent, "magpie-bench-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("create lab directory: %w", err)
	}
	return &Lab{BinDir: binDir, Dir: dir}, nil
}

// Start starts bin with args and env added to the harness's environment;
// its output goes to Dir/NAME.log. Stop and Close stop it.
func (l *Lab) Start(name string, env []string, bin string, args ...string) (*Process, error) {
	p, err := startProcess(name, filepath.Join(l.Dir, name+".log"), env, bin, args...)
	if err != nil {
		return nil, err
	}
	l.procs = append(l.procs, p)
	return p, nil
}

// Stop stops every process the lab started, newest first, so responders
// stop before their console.
func (l *Lab) Stop() error {
	var errs []error
	for i := len(l.procs) - 1; i >= 0; i-- {
		errs = append(errs, l.procs[i].Stop(stopGrace))
	}
	l.procs = nil
	return errors.Join(errs...)
}

// Close stops every process and, unless keep is set, removes Dir.
func (l *Lab) Close(keep bool) error {
	err := l.Stop()
	if !keep {
		if rerr := os.RemoveAll(l.Dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove lab directory: %w", rerr))
		}
	}
	return err
}
