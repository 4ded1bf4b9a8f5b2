package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/magpie-ir/magpie/internal/version"
)

const usage = `Usage: magpie-console serve [flags]

Runs the Magpie console. On first start it creates DATA_DIR/ca.pem (the CA
that signs the console's TLS certificates and every responder's client
certificate) and prints a bootstrap admin API key, which it also writes to
DATA_DIR/admin-api-key with mode 0600.

Commands:
  serve     run the console until SIGINT or SIGTERM
  version   print the version

Run 'magpie-console serve -h' for the flags.
`

// Main runs the magpie-console command line.
func Main(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("missing command")
	}
	switch args[0] {
	case "serve":
		return serve(args[1:])
	case "version", "--version":
		fmt.Println(version.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(os.Stdout, usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func serve(args []string) error {
	fs := flag.NewFlagSet("magpie-console serve", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: magpie-console serve [flags]\n\nFlags:")
		fs.PrintDefaults()
	}
	var cfg Config
	var tlsNames string
	var logJSON bool
	fs.StringVar(&cfg.DataDir, "data-dir", envOr("MAGPIE_DATA_DIR", ""), "directory for the database, CA and evidence repository; created with mode 0700 (env MAGPIE_DATA_DIR)")
	fs.StringVar(&cfg.HTTPListen, "http-listen", envOr("MAGPIE_HTTP_LISTEN", ":8443"), "address for the HTTPS API and trigger URLs (env MAGPIE_HTTP_LISTEN)")
	fs.StringVar(&cfg.GRPCListen, "grpc-listen", envOr("MAGPIE_GRPC_LISTEN", ":8444"), "address responders connect to over gRPC with mutual TLS (env MAGPIE_GRPC_LISTEN)")
	fs.BoolVar(&cfg.HTTPTLS, "http-tls", true, "serve the API over HTTPS with a certificate from the console's CA; set to false only behind a TLS-terminating proxy")
	fs.StringVar(&cfg.PublicURL, "public-url", envOr("MAGPIE_PUBLIC_URL", ""), "base URL that integrations use to reach the API, used in trigger URLs, e.g. https://console.example:8443 (default: derived from --http-listen and the hostname)")
	fs.StringVar(&tlsNames, "tls-names", "", "comma-separated extra DNS names and IP addresses for the console's TLS certificate")
	fs.DurationVar(&cfg.AssignmentExpiry, "assignment-expiry", 30*24*time.Hour, "how long an assignment waits for an offline responder before it expires")
	fs.StringVar(&cfg.ProfilesDir, "profiles-dir", "", "directory of extra acquisition profiles (*.yaml) that add to or override the built-in ones")
	fs.BoolVar(&logJSON, "log-json", false, "write the log as JSON lines instead of text")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: serve takes flags only", fs.Arg(0))
	}
	for _, n := range strings.Split(tlsNames, ",") {
		if n = strings.TrimSpace(n); n != "" {
			cfg.TLSNames = append(cfg.TLSNames, n)
		}
	}

	var handler slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if logJSON {
		handler = slog.NewJSONHandler(os.Stderr, nil)
	}
	cfg.Log = slog.New(handler)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	c.Stop()
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
