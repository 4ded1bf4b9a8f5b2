package harness

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/magpie-ir/magpie/console/apitypes"
)

// ResponderOptions configures StartResponder.
type ResponderOptions struct {
	// Root is the responder's --root.
	Root string
	// ProfilesDir is the responder's --profiles-dir; empty means none.
	ProfilesDir string
	// LogJSON adds --log-json.
	LogJSON bool
}

// Responder is a running magpie-responder.
type Responder struct {
	Process *Process
	// Info is the console's record of this responder, set by WaitOnline.
	Info apitypes.Responder
}

// StartResponder enrolls a new responder with c using a single-use token
// from 'magpie enroll-token create' and a new state directory in the lab.
func (l *Lab) StartResponder(ctx context.Context, c *Console, opts ResponderOptions) (*Responder, error) {
	out, err := c.CLI(ctx, "enroll-token", "create", "--single-use")
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(out)
	if token == "" {
		return nil, fmt.Errorf("'magpie enroll-token create' printed no token")
	}

	args := []string{"run",
		"--console", c.GRPCAddr,
		"--ca", c.CAFile,
		"--state-dir", filepath.Join(l.Dir, "responder"),
		"--root", opts.Root,
	}
	if opts.ProfilesDir != "" {
		args = append(args, "--profiles-dir", opts.ProfilesDir)
	}
	if opts.LogJSON {
		args = append(args, "--log-json")
	}
	// The token travels in the environment so that it stays out of the
	// process list.
	env := []string{"MAGPIE_ENROLL_TOKEN=" + token}
	p, err := l.Start("responder", env, filepath.Join(l.BinDir, ResponderBinary), args...)
	if err != nil {
		return nil, err
	}
	return &Responder{Process: p}, nil
}

// WaitOnline waits until the console lists a responder as online and
// stores it in r.Info. Each lab has one console with one responder, so
// the first online responder is r.
func (c *Console) WaitOnline(ctx context.Context, r *Responder) error {
	return WaitFor(ctx, startTimeout, "responder online", r.Process, func() (bool, error) {
		list, err := c.Responders(ctx)
		if err != nil {
			return false, err
		}
		for _, resp := range list {
			if resp.Online {
				r.Info = resp
				return true, nil
			}
		}
		return false, nil
	})
}
