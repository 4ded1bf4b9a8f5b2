package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/magpie-ir/magpie/console/apitypes"
)

func defineEnrollTokenCreate(fs *flag.FlagSet) runFunc {
	ttl := fs.Duration("ttl", 0,
		"how long the token stays valid, as a Go duration (\"24h\", \"90m\"); 0 uses the console's default")
	singleUse := fs.Bool("single-use", false,
		"make the token valid for one enrollment only; by default it enrolls any number of responders until it expires")
	asJSON := fs.Bool("json", false,
		"print the token object as JSON instead of the bare token")

	return func(ctx context.Context, a *app, _ []string) error {
		if *ttl < 0 {
			return usageError(fmt.Errorf("invalid --ttl %s: must be positive, or 0 for the console's default", *ttl))
		}
		c, err := a.client()
		if err != nil {
			return err
		}

		req := apitypes.CreateEnrollTokenRequest{SingleUse: *singleUse}
		if *ttl > 0 {
			req.TTL = ttl.String()
		}
		var tok apitypes.EnrollToken
		if err := c.postJSON(ctx, req, &tok, "api", "v1", "enrollment-tokens"); err != nil {
			return fmt.Errorf("create enrollment token: %w", err)
		}

		if *asJSON {
			return writeJSON(a.stdout, tok)
		}
		// The token goes alone to stdout so that scripts can capture it.
		fmt.Fprintln(a.stdout, tok.Token)
		use := "any number of enrollments"
		if tok.SingleUse {
			use = "single use"
		}
		fmt.Fprintf(a.stderr, "enrollment token expires %s (%s)\n", formatTime(tok.ExpiresAt), use)
		return nil
	}
}

func defineRespondersList(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print the responder list as JSON instead of a table")

	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		var list apitypes.ResponderList
		if err := c.getJSON(ctx, &list, nil, "api", "v1", "responders"); err != nil {
			return fmt.Errorf("list responders: %w", err)
		}

		if *asJSON {
			return writeJSON(a.stdout, list)
		}
		if len(list.Responders) == 0 {
			fmt.Fprintln(a.stderr, "no responders enrolled; issue a token with 'magpie enroll-token create'")
			return nil
		}
		t := newTable(a.stdout, "ID", "HOSTNAME", "FQDN", "IPS", "OS/ARCH", "VERSION", "ONLINE", "LAST SEEN")
		for _, r := range list.Responders {
			online := yesNo(r.Online)
			if !r.RevokedAt.IsZero() {
				online = "revoked"
			}
			t.row(r.ID, r.Hostname, orDash(r.FQDN), orDash(strings.Join(r.IPs, ",")),
				r.OS+"/"+r.Arch, r.Version, online, formatTime(r.LastSeen))
		}
		return t.flush()
	}
}

func defineRespondersRevoke(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, a *app, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		var res apitypes.RevokeResult
		if err := c.doJSON(ctx, http.MethodDelete, nil, &res, nil, "api", "v1", "responders", args[0]); err != nil {
			return fmt.Errorf("revoke responder %s: %w", args[0], err)
		}
		fmt.Fprintf(a.stdout, "Responder %s revoked; %d open assignments cancelled. To bring the machine back, enroll it again with a new token and an empty state directory.\n", res.ResponderID, res.CancelledAssignments)
		return nil
	}
}

func defineTriggersCreate(fs *flag.FlagSet) runFunc {
	name := fs.String("name", "",
		"trigger `NAME`, the path segment of the trigger URL (required)")
	profile := fs.String("profile", "",
		"acquisition `PROFILE` that calls of this trigger collect (required)")
	asJSON := fs.Bool("json", false,
		"print the trigger with its token and URL as JSON")

	return func(ctx context.Context, a *app, _ []string) error {
		if *name == "" {
			return usageError(errors.New("missing --name: the trigger name"))
		}
		if *profile == "" {
			return usageError(errors.New("missing --profile: the acquisition profile the trigger collects"))
		}
		c, err := a.client()
		if err != nil {
			return err
		}

		req := apitypes.CreateTriggerRequest{Name: *name, Profile: *profile}
		var trig apitypes.TriggerWithToken
		if err := c.postJSON(ctx, req, &trig, "api", "v1", "triggers"); err != nil {
			return fmt.Errorf("create trigger: %w", err)
		}
		if *asJSON {
			return writeJSON(a.stdout, trig)
		}
		printTriggerToken(a, "created", trig)
		return nil
	}
}

func defineTriggersRotate(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false,
		"print the trigger with its new token and URL as JSON")

	return func(ctx context.Context, a *app, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		var trig apitypes.TriggerWithToken
		if err := c.postJSON(ctx, nil, &trig, "api", "v1", "triggers", args[0], "rotate"); err != nil {
			return fmt.Errorf("rotate trigger %q: %w", args[0], err)
		}
		if *asJSON {
			return writeJSON(a.stdout, trig)
		}
		printTriggerToken(a, "rotated", trig)
		return nil
	}
}

// printTriggerToken prints a trigger's one-time token and URL for a human.
func printTriggerToken(a *app, verb string, trig apitypes.TriggerWithToken) {
	fmt.Fprintf(a.stdout, "Trigger %q %s.\n", trig.Name, verb)
	fmt.Fprintf(a.stdout, "  profile: %s\n", trig.Profile)
	fmt.Fprintf(a.stdout, "  parser:  %s\n", orDash(trig.Parser))
	fmt.Fprintf(a.stdout, "  token:   %s\n", trig.Token)
	fmt.Fprintf(a.stdout, "  URL:     %s\n", trig.URL)
	fmt.Fprintf(a.stdout, "The token is shown only once and the console keeps only its hash: store it now. "+
		"To replace it, run 'magpie triggers rotate %s'.\n", trig.Name)
}

func defineTriggersList(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print the trigger list as JSON instead of a table")

	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		var list apitypes.TriggerList
		if err := c.getJSON(ctx, &list, nil, "api", "v1", "triggers"); err != nil {
			return fmt.Errorf("list triggers: %w", err)
		}

		if *asJSON {
			return writeJSON(a.stdout, list)
		}
		if len(list.Triggers) == 0 {
			fmt.Fprintln(a.stderr, "no triggers; create one with 'magpie triggers create --name N --profile P'")
			return nil
		}
		t := newTable(a.stdout, "NAME", "PROFILE", "PARSER", "CREATED", "ROTATED")
		for _, tr := range list.Triggers {
			t.row(tr.Name, tr.Profile, orDash(tr.Parser), formatTime(tr.CreatedAt), formatTime(tr.RotatedAt))
		}
		return t.flush()
	}
}

func defineAuditList(fs *flag.FlagSet) runFunc {
	limit := fs.Int("limit", 0,
		"maximum number of events to list, newest first; 0 uses the console's default")
	asJSON := fs.Bool("json", false, "print the audit events as JSON instead of a table")

	return func(ctx context.Context, a *app, _ []string) error {
		query, err := limitQuery(*limit)
		if err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		var list apitypes.AuditList
		if err := c.getJSON(ctx, &list, query, "api", "v1", "audit"); err != nil {
			return fmt.Errorf("list audit events: %w", err)
		}

		if *asJSON {
			return writeJSON(a.stdout, list)
		}
		t := newTable(a.stdout, "ID", "TIME", "ACTOR", "ACTION", "TARGET", "DETAIL")
		for _, e := range list.Events {
			t.row(strconv.FormatInt(e.ID, 10), formatTime(e.Time), e.Actor, e.Action, orDash(e.Target), orDash(e.Detail))
		}
		return t.flush()
	}
}

// limitQuery returns the "limit" query of a list route; 0 sends none, so
// the console applies its default.
func limitQuery(limit int) (url.Values, error) {
	if limit < 0 {
		return nil, usageError(fmt.Errorf("invalid --limit %d: must be positive, or 0 for the console's default", limit))
	}
	if limit == 0 {
		return nil, nil
	}
	return url.Values{"limit": {strconv.Itoa(limit)}}, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
