// Package cli parses the magpie-responder command line.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/magpie-ir/magpie/internal/version"
	"github.com/magpie-ir/magpie/responder/agent"
)

const usage = `Usage: magpie-responder COMMAND [flags]

Commands:
  run       run the responder in the foreground until SIGINT or SIGTERM
  version   print the version

Run 'magpie-responder run -h' for the flags.
`

// Main runs the magpie-responder command line.
func Main(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("missing command")
	}
	switch args[0] {
	case "run":
		return run(args[1:])
	case "version", "--version":
		fmt.Println(version.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func run(args []string) error {
	fs := flag.NewFlagSet("magpie-responder run", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: magpie-responder run [flags]\n\nRuns the responder in the foreground until SIGINT or SIGTERM.\n\nFlags:")
		fs.PrintDefaults()
	}
	var cfg agent.Config
	var logJSON bool
	fs.StringVar(&cfg.ConsoleAddr, "console", os.Getenv("MAGPIE_CONSOLE_GRPC"), "console gRPC address HOST:PORT, the console's --grpc-listen (env MAGPIE_CONSOLE_GRPC)")
	fs.StringVar(&cfg.CAFile, "ca", os.Getenv("MAGPIE_CA"), "console CA certificate (the console's DATA_DIR/ca.pem), needed for the first enrollment (env MAGPIE_CA)")
	fs.StringVar(&cfg.EnrollToken, "enroll-token", os.Getenv("MAGPIE_ENROLL_TOKEN"), "enrollment token from 'magpie enroll-token create', needed until the responder has enrolled (env MAGPIE_ENROLL_TOKEN)")
	fs.StringVar(&cfg.StateDir, "state-dir", envOr("MAGPIE_STATE_DIR", defaultStateDir), "directory for the responder's key, certificate and identity; created with mode 0700 (env MAGPIE_STATE_DIR)")
	fs.StringVar(&cfg.Root, "root", "/", "directory to collect from as if it were /, e.g. a mounted disk image")
	fs.StringVar(&cfg.Hostname, "hostname", "", "hostname to report instead of the OS's (containers, tests)")
	fs.StringVar(&cfg.ProfilesDir, "profiles-dir", "", "directory of extra acquisition profiles (*.yaml) that add to or override the built-in ones")
	fs.IntVar(&cfg.Concurrency, "concurrency", 1, "number of assignments to run at once")
	fs.BoolVar(&logJSON, "log-json", false, "write the log as JSON lines instead of text")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: run takes flags only", fs.Arg(0))
	}

	var handler slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if logJSON {
		handler = slog.NewJSONHandler(os.Stderr, nil)
	}
	cfg.Log = slog.New(handler)

	a, err := agent.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return a.Run(ctx)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
