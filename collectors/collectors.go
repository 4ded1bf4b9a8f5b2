// Package collectors runs an acquisition profile: it collects the profile's
// files and live data for the current OS into an evidence package.
//
// Subpackages: profile (profiles as data), files (the file walker) and live
// (live-data collectors such as processes and network sockets).
package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/magpie-ir/magpie/collectors/files"
	"github.com/magpie-ir/magpie/collectors/live"
	"github.com/magpie-ir/magpie/collectors/profile"
	"github.com/magpie-ir/magpie/internal/evidence"
)

// Options configures one collection.
type Options struct {
	Profile profile.Profile
	// Root is the directory collected as "/"; empty means "/".
	Root string
	// GOOS selects the profile's section; empty means runtime.GOOS.
	GOOS string
	// Progress receives running totals of files and bytes; may be nil.
	Progress func(files, bytes int64)
}

// Run collects the profile's live data first, so that it describes the
// system before file reads disturb it (atimes, caches), and then its files.
// A failing collector is recorded in the package and the run continues;
// Run returns an error only when the package itself cannot be written or
// ctx ends.
func Run(ctx context.Context, opts Options, w *evidence.Writer) error {
	if opts.Root == "" {
		opts.Root = "/"
	}
	if opts.GOOS == "" {
		opts.GOOS = runtime.GOOS
	}
	spec, ok := opts.Profile.For(opts.GOOS)
	if !ok {
		return fmt.Errorf("acquisition profile %q has nothing to collect on %s", opts.Profile.Name, opts.GOOS)
	}
	w.Logf("profile %q on %s: %d file patterns, %d live collectors, root %s", opts.Profile.Name, opts.GOOS, len(spec.Files), len(spec.Live), opts.Root)

	for _, name := range spec.Live {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, ok := live.Lookup(name)
		if !ok {
			w.Logf("live collector %q: unknown, skipped", name)
			continue
		}
		err := w.AddLive(name, func(out io.Writer) error {
			return c.Run(ctx, live.Env{Root: opts.Root}, out)
		})
		var collectorErr *evidence.CollectorError
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &collectorErr):
			// Recorded in the manifest; the collection goes on.
			w.Logf("%v", err)
		default:
			return fmt.Errorf("add live data of %s: %w", name, err)
		}
	}

	err := files.Collect(ctx, files.Options{Root: opts.Root, Patterns: spec.Files, Progress: opts.Progress}, w)
	if err != nil {
		return fmt.Errorf("collect files: %w", err)
	}
	w.Logf("collection finished")
	return nil
}
