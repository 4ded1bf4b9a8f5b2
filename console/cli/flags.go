package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Environment variables that set the global flags. A flag given on the
// command line wins over its variable.
const (
	envConsole = "MAGPIE_CONSOLE"
	envAPIKey  = "MAGPIE_API_KEY"
	envCA      = "MAGPIE_CA"
)

// globalOptions are the flags every command accepts, before or after the
// command words.
type globalOptions struct {
	console string
	apiKey  string
	caFile  string
}

// register adds the global flags to fs. It can run on several flag sets
// without resetting values that an earlier set parsed.
func (g *globalOptions) register(fs *flag.FlagSet) {
	fs.Var(stringFlag{&g.console}, "console",
		"base `URL` of the console's HTTPS API, for example https://127.0.0.1:8443.\n"+
			"Environment: "+envConsole+".")
	fs.Var(stringFlag{&g.apiKey}, "api-key",
		"API `KEY` sent as \"Authorization: Bearer KEY\" on every request.\n"+
			"Prefer the environment variable, which stays out of the process list and shell history.\n"+
			"Environment: "+envAPIKey+".")
	fs.Var(stringFlag{&g.caFile}, "ca",
		"PEM `FILE` with the CA certificate that signs the console's HTTPS certificate.\n"+
			"When set, only this CA is trusted; when empty, the system's trusted CAs are.\n"+
			"Environment: "+envCA+".")
}

// resolve fills the options not given as flags from their environment
// variables.
func (g *globalOptions) resolve(getenv func(string) string) {
	if g.console == "" {
		g.console = getenv(envConsole)
	}
	if g.apiKey == "" {
		g.apiKey = getenv(envAPIKey)
	}
	if g.caFile == "" {
		g.caFile = getenv(envCA)
	}
}

// stringFlag is a string flag that never reports its value, so help output
// cannot print an API key given earlier on the same command line.
type stringFlag struct{ p *string }

func (f stringFlag) String() string     { return "" }
func (f stringFlag) Set(v string) error { *f.p = v; return nil }

// newFlagSet returns the flag set of cmd, with the global flags registered
// and a usage message written to w, and the function that runs cmd once the
// set is parsed.
func (a *app) newFlagSet(cmd *command, w io.Writer) (*flag.FlagSet, runFunc) {
	fs := flag.NewFlagSet("magpie "+cmd.words, flag.ContinueOnError)
	fs.SetOutput(w)
	a.global.register(fs)
	run := cmd.define(fs)
	fs.Usage = func() { printCommandUsage(w, cmd) }
	return fs, run
}

// printCommandUsage prints the help of cmd. It lists the flags of a fresh
// flag set, so the defaults shown are not values parsed from the command
// line, and it leaves out the global flags of an offline command.
func printCommandUsage(w io.Writer, cmd *command) {
	fs := flag.NewFlagSet("magpie "+cmd.words, flag.ContinueOnError)
	fs.SetOutput(w)
	cmd.define(fs)
	heading := "Flags:"
	if !cmd.offline {
		var g globalOptions
		g.register(fs)
		heading = "Flags (global flags included):"
	}

	fmt.Fprintf(w, "Usage: %s\n\n%s.\n", strings.TrimSpace("magpie "+cmd.words+" "+cmd.args), capitalize(cmd.summary))
	if cmd.details != "" {
		fmt.Fprintf(w, "\n%s", cmd.details)
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintf(w, "\n%s\n", heading)
		fs.PrintDefaults()
	}
}

// parseInterspersed parses args with fs and returns the positional
// arguments. Unlike fs.Parse, it keeps parsing flags after a positional
// argument, so "tasks wait ID --timeout 2m" works. Everything after "--" is
// positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()

		// fs.Parse drops a "--" that ends the flags; what follows it is
		// positional even when it starts with a dash.
		consumed := args[:len(args)-len(rest)]
		if len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}

		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
