// Package cli implements magpie, the analyst's command-line client of the
// console's HTTP API. It issues enrollment tokens, manages triggers, follows
// tasks, downloads evidence packages with their SHA-256 checked against the
// console's record, and verifies packages offline.
//
// Main is the whole program: cmd/magpie only calls it and exits with its
// code. Exit codes are 0 on success, 1 on failure, 2 on a usage error and,
// for "tasks wait" only, 3 when its timeout runs out while the task is still
// open.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/magpie-ir/magpie/internal/version"
)

// Exit codes returned by Main.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	// exitTimeout is the code of "tasks wait" when its timeout runs out.
	exitTimeout = 3
)

// app is one run of the program: its output streams, environment and the
// global options.
type app struct {
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	global globalOptions
}

// command is one "magpie WORDS..." entry.
type command struct {
	words   string // "tasks wait"
	args    string // synopsis of the positional arguments and flags
	summary string
	nargs   int // number of positional arguments the command takes
	// details is printed by the command's -h after the summary, or nothing
	// when empty.
	details string
	// offline marks a command that never contacts the console. Its -h does
	// not list the global flags, which it accepts and ignores.
	offline bool

	// define registers the command's own flags on fs and returns the
	// function that runs the command once fs is parsed.
	define func(fs *flag.FlagSet) runFunc
}

// runFunc runs a command with its positional arguments.
type runFunc func(ctx context.Context, a *app, args []string) error

// commands lists every command in the order "magpie help" shows them.
var commands = []*command{
	{words: "enroll-token create", args: "[--ttl D] [--single-use] [--json]",
		summary: "issue a token that enrolls new responders", define: defineEnrollTokenCreate},
	{words: "responders list", args: "[--json]",
		summary: "list enrolled responders", define: defineRespondersList},
	{words: "responders revoke", args: "ID", nargs: 1,
		summary: "revoke a responder: cancel its open assignments and reject its certificate", define: defineRespondersRevoke},
	{words: "triggers create", args: "--name N --profile P [--json]",
		summary: "create a trigger and print its URL and token", define: defineTriggersCreate},
	{words: "triggers list", args: "[--json]",
		summary: "list triggers", define: defineTriggersList},
	{words: "triggers rotate", args: "NAME [--json]", nargs: 1,
		summary: "issue a new token for a trigger, revoking the old one", define: defineTriggersRotate},
	{words: "tasks list", args: "[--limit N] [--json]",
		summary: "list recent tasks", define: defineTasksList},
	{words: "tasks show", args: "ID [--json]", nargs: 1,
		summary: "show a task and its assignments", define: defineTasksShow},
	{words: "tasks cancel", args: "ID", nargs: 1,
		summary: "cancel a task's open assignments", define: defineTasksCancel},
	{words: "tasks wait", args: "ID [--timeout D] [--interval D]", nargs: 1,
		summary: "wait until a task completes, fails or is cancelled", details: tasksWaitDetails,
		define: defineTasksWait},
	{words: "evidence download", args: "TASK_ID -o FILE [--responder ID_OR_HOSTNAME] [--force]", nargs: 1,
		summary: "download evidence packages and check their SHA-256", define: defineEvidenceDownload},
	{words: "evidence verify", args: "FILE [--json]", nargs: 1, offline: true,
		summary: "verify an evidence package offline", define: defineEvidenceVerify},
	{words: "audit list", args: "[--limit N] [--json]",
		summary: "list the console's audit log", define: defineAuditList},
	{words: "version", offline: true,
		summary: "print the version of magpie", define: defineVersion},
}

// Main runs magpie with args (without the program name) and returns the
// process exit code. An interrupt signal cancels the running command.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		// Restore the default handling after the first interrupt, so a
		// second one ends a command that does not stop.
		<-ctx.Done()
		stop()
	}()

	a := &app{stdout: stdout, stderr: stderr, getenv: os.Getenv}
	return a.main(ctx, args)
}

func (a *app) main(ctx context.Context, args []string) int {
	err := a.dispatch(ctx, args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}

	fmt.Fprintf(a.stderr, "magpie: %v\n", err)

	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

func (a *app) dispatch(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("magpie", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	a.global.register(fs)
	showVersion := registerVersionFlag(fs)
	fs.Usage = func() { a.printUsage(a.stderr) }

	// The global flag set stops at the first command word, as flag does.
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if *showVersion {
		return printVersion(a.stdout)
	}
	words := fs.Args()
	if len(words) == 0 {
		a.printUsage(a.stderr)
		return usageError(errors.New("missing command"))
	}

	if words[0] == "help" {
		return a.help(words[1:])
	}

	cmd, rest, err := findCommand(words)
	if err != nil {
		return usageError(err)
	}

	fs, run := a.newFlagSet(cmd, a.stderr)
	positional, err := parseInterspersed(fs, rest)
	if err != nil {
		return usageError(err)
	}
	if len(positional) != cmd.nargs {
		return usageError(fmt.Errorf("wrong number of arguments to %s: got %d, want %d (usage: magpie %s %s)",
			cmd.words, len(positional), cmd.nargs, cmd.words, cmd.args))
	}
	return run(ctx, a, positional)
}

// findCommand matches the leading words of args against the command table
// and returns the command and the remaining arguments.
func findCommand(args []string) (*command, []string, error) {
	for _, cmd := range commands {
		n := len(strings.Fields(cmd.words))
		if len(args) >= n && strings.Join(args[:n], " ") == cmd.words {
			return cmd, args[n:], nil
		}
	}

	group := args[0]
	var subcommands []string
	for _, cmd := range commands {
		if first, second, _ := strings.Cut(cmd.words, " "); first == group {
			subcommands = append(subcommands, second)
		}
	}
	if len(subcommands) == 0 {
		return nil, nil, fmt.Errorf("unknown command %q; run 'magpie help' to list commands", group)
	}
	if len(args) == 1 {
		return nil, nil, fmt.Errorf("%q needs a subcommand: %s", group, strings.Join(subcommands, ", "))
	}
	return nil, nil, fmt.Errorf("unknown command %q; %q takes: %s", group+" "+args[1], group, strings.Join(subcommands, ", "))
}

// help prints the command list, or one command's flags for
// "magpie help tasks wait".
func (a *app) help(words []string) error {
	if len(words) == 0 {
		a.printUsage(a.stdout)
		return nil
	}
	cmd, _, err := findCommand(words)
	if err != nil {
		return usageError(err)
	}
	fs, _ := a.newFlagSet(cmd, a.stdout)
	fs.Usage()
	return nil
}

func (a *app) printUsage(w io.Writer) {
	fmt.Fprint(w, `magpie is the analyst's client of the Magpie console.

Usage:
  magpie [global flags] COMMAND [flags] [arguments]

Commands:
`)
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %-20s %s\n", cmd.words, cmd.summary)
	}
	fmt.Fprint(w, `
Global flags (also accepted after the command words):
`)
	fs := flag.NewFlagSet("magpie", flag.ContinueOnError)
	var g globalOptions
	g.register(fs)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, `
Run 'magpie help COMMAND' or 'magpie COMMAND -h' for a command's flags.
'magpie --version' prints the version, like 'magpie version'.
`)
}

func registerVersionFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("version", false, "print the version of magpie and exit, like 'magpie version'")
}

func defineVersion(*flag.FlagSet) runFunc {
	return func(_ context.Context, a *app, _ []string) error {
		return printVersion(a.stdout)
	}
}

func printVersion(w io.Writer) error {
	_, err := fmt.Fprintln(w, version.Version)
	return err
}

// exitError carries a specific exit code up to Main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &exitError{code: exitUsage, err: err}
}
