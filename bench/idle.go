package bench

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/magpie-ir/magpie/bench/harness"
	"github.com/magpie-ir/magpie/bench/procstat"
)

// IdleResult is the outcome of the idle footprint benchmark.
type IdleResult struct {
	// Wait is how long after coming online the counters were read.
	Wait time.Duration
	// ResponderRSS and ResponderHWM are VmRSS and VmHWM in bytes.
	ResponderRSS int64
	ResponderHWM int64
	// ConsoleRSS is the console's VmRSS in bytes at the same moment.
	ConsoleRSS int64
	Binaries   []BinaryInfo
}

// BinaryInfo describes one built binary. Go records -ldflags in a binary's
// build information only for builds without -trimpath, and 'make build'
// uses -trimpath, so the sections show whether the binary was linked with
// -s (no symbol table) and -w (no DWARF).
type BinaryInfo struct {
	Name string
	Size int64
	// HasSymtab and HasDWARF report the ELF sections present; both are
	// false for a binary that is not ELF.
	HasSymtab bool
	HasDWARF  bool
}

// runIdle starts a console and a responder, waits until the responder is
// online and cfg.IdleWait has passed, and reads the responder's memory.
func runIdle(ctx context.Context, cfg *Config, profilesDir string) (result IdleResult, err error) {
	result.Binaries, err = readBinaries(cfg.BinDir)
	if err != nil {
		return result, err
	}

	lab, err := harness.NewLab(cfg.BinDir, cfg.WorkDir, "idle")
	if err != nil {
		return result, err
	}
	defer func() { err = closeLab(lab, cfg, err) }()

	console, err := lab.StartConsole(ctx, profilesDir)
	if err != nil {
		return result, err
	}
	responder, err := lab.StartResponder(ctx, console, harness.ResponderOptions{Root: cfg.Root, ProfilesDir: profilesDir})
	if err != nil {
		return result, err
	}
	if err := console.WaitOnline(ctx, responder); err != nil {
		return result, err
	}

	// The measurement is of a responder that has been idle for IdleWait,
	// so this waits on purpose instead of polling for a condition.
	timer := time.NewTimer(cfg.IdleWait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return result, ctx.Err()
	case <-timer.C:
	}
	result.Wait = cfg.IdleWait

	r, err := procstat.Read(responder.Process.PID())
	if err != nil {
		return result, err
	}
	c, err := procstat.Read(console.Process.PID())
	if err != nil {
		return result, err
	}
	result.ResponderRSS, result.ResponderHWM, result.ConsoleRSS = r.RSS, r.HWM, c.RSS
	return result, nil
}

// readBinaries describes the three binaries in binDir.
func readBinaries(binDir string) ([]BinaryInfo, error) {
	var infos []BinaryInfo
	for _, name := range []string{harness.ResponderBinary, harness.ConsoleBinary, harness.CLIBinary} {
		info, err := readBinary(filepath.Join(binDir, name))
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// readBinary returns the size and symbol sections of the binary at path.
func readBinary(path string) (BinaryInfo, error) {
	info := BinaryInfo{Name: filepath.Base(path)}
	st, err := os.Stat(path)
	if err != nil {
		return info, fmt.Errorf("binary %s: %w; run 'make build' first", path, err)
	}
	info.Size = st.Size()

	f, err := elf.Open(path)
	var formatErr *elf.FormatError
	if errors.As(err, &formatErr) {
		return info, nil
	}
	if err != nil {
		return info, fmt.Errorf("read sections of %s: %w", path, err)
	}
	defer f.Close()
	for _, s := range f.Sections {
		switch {
		case s.Name == ".symtab":
			info.HasSymtab = true
		case strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_"):
			info.HasDWARF = true
		}
	}
	return info, nil
}
