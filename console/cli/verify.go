package cli

import (
	"context"
	"errors"
	"flag"
)

// TODO: verify with internal/evidence once that package lands.
func defineEvidenceVerify(fs *flag.FlagSet) runFunc {
	fs.Bool("json", false, "print the verification report as JSON instead of a summary")
	return func(ctx context.Context, a *app, args []string) error {
		return errors.New("evidence verify is not built yet")
	}
}
