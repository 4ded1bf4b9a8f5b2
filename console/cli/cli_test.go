package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/magpie-ir/magpie/internal/version"
)

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		name           string
		args           []string
		wantPositional []string
		wantTimeout    time.Duration
		wantJSON       bool
	}{
		{"flags before", []string{"--timeout", "2m", "--json", "T1"}, []string{"T1"}, 2 * time.Minute, true},
		{"flags after", []string{"T1", "--timeout", "2m", "--json"}, []string{"T1"}, 2 * time.Minute, true},
		{"flags between", []string{"T1", "-timeout=3s", "T2", "--json"}, []string{"T1", "T2"}, 3 * time.Second, true},
		{"no flags", []string{"T1"}, []string{"T1"}, time.Minute, false},
		{"double dash ends flags", []string{"--json", "--", "-T1", "--timeout"}, []string{"-T1", "--timeout"}, time.Minute, true},
		{"single dash is positional", []string{"-", "--json"}, []string{"-"}, time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			timeout := fs.Duration("timeout", time.Minute, "")
			asJSON := fs.Bool("json", false, "")

			positional, err := parseInterspersed(fs, tt.args)
			if err != nil {
				t.Fatalf("parseInterspersed(%q): %v", tt.args, err)
			}
			if diff := cmp.Diff(tt.wantPositional, positional); diff != "" {
				t.Errorf("positional (-want +got):\n%s", diff)
			}
			if *timeout != tt.wantTimeout {
				t.Errorf("timeout = %s, want %s", *timeout, tt.wantTimeout)
			}
			if *asJSON != tt.wantJSON {
				t.Errorf("json = %t, want %t", *asJSON, tt.wantJSON)
			}
		})
	}
}

func TestParseInterspersedUnknownFlag(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	if _, err := parseInterspersed(fs, []string{"T1", "--nope"}); err == nil {
		t.Fatal("parseInterspersed accepted an unknown flag after a positional argument")
	}
}

func TestGlobalFlagPlacement(t *testing.T) {
	fc := newFakeConsole(t)
	fc.addTask(testTask("T1", "completed", testAssignment("A1", "ws-01", "completed")))

	flags := []string{"--console", fc.srv.URL, "--api-key", testAPIKey, "--ca", fc.caFile}
	tests := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"before command", nil, append(append([]string{}, flags...), "tasks", "show", "T1")},
		{"after command words", nil, append([]string{"tasks", "show"}, append(flags, "T1")...)},
		{"after positional", nil, append([]string{"tasks", "show", "T1"}, flags...)},
		{"split around command", nil, []string{"--console", fc.srv.URL, "tasks", "show", "T1", "--api-key=" + testAPIKey, "-ca", fc.caFile}},
		{"environment only", fc.env(), []string{"tasks", "show", "T1"}},
		{"flag overrides environment", map[string]string{envConsole: fc.srv.URL, envAPIKey: "wrong-key", envCA: fc.caFile},
			[]string{"tasks", "show", "T1", "--api-key", testAPIKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, tt.env, tt.args...)
			if res.code != exitOK {
				t.Fatalf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
			}
			if !strings.Contains(res.stdout, "Task:       T1") {
				t.Errorf("stdout does not show task T1:\n%s", res.stdout)
			}
		})
	}

	fc.mu.Lock()
	defer fc.mu.Unlock()
	for _, h := range fc.authHeaders {
		if h != "Bearer "+testAPIKey {
			t.Errorf("console received Authorization %q, want the bearer API key", h)
		}
	}
}

func TestMissingGlobalOptions(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"console", map[string]string{envAPIKey: testAPIKey}, "missing console URL: set --console or MAGPIE_CONSOLE"},
		{"api key", map[string]string{envConsole: "https://127.0.0.1:8443"}, "missing API key: set --api-key or MAGPIE_API_KEY"},
		{"plain http", map[string]string{envConsole: "http://127.0.0.1:8443", envAPIKey: testAPIKey},
			`invalid console URL "http://127.0.0.1:8443": want https://HOST:PORT (set --console or MAGPIE_CONSOLE)`},
		{"no scheme, IP address", map[string]string{envConsole: "127.0.0.1:48305", envAPIKey: testAPIKey},
			`invalid console URL "127.0.0.1:48305": want https://HOST:PORT (set --console or MAGPIE_CONSOLE)`},
		{"no scheme, host name", map[string]string{envConsole: "console.corp:8443", envAPIKey: testAPIKey},
			`invalid console URL "console.corp:8443": want https://HOST:PORT (set --console or MAGPIE_CONSOLE)`},
		{"invalid escape", map[string]string{envConsole: "https://127.0.0.1:8443/%zz", envAPIKey: testAPIKey},
			`invalid console URL "https://127.0.0.1:8443/%zz": invalid URL escape "%zz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, tt.env, "responders", "list")
			if res.code != exitUsage {
				t.Errorf("exit code = %d, want %d", res.code, exitUsage)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.want)
			}
		})
	}
}

func TestHelpListsCommands(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}} {
		res := runCLI(t, nil, args...)
		if res.code != exitOK {
			t.Errorf("magpie %s: exit code = %d, want 0", args[0], res.code)
		}
		out := res.stdout + res.stderr
		for _, cmd := range commands {
			if !strings.Contains(out, cmd.words) {
				t.Errorf("magpie %s does not list %q:\n%s", args[0], cmd.words, out)
			}
		}
	}
}

func TestCommandHelpShowsFlags(t *testing.T) {
	res := runCLI(t, nil, "help", "tasks", "wait")
	if res.code != exitOK {
		t.Fatalf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	for _, want := range []string{"-timeout", "-interval", "-console", "-api-key", "-ca", "Go duration"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("help of tasks wait lacks %q:\n%s", want, res.stdout)
		}
	}

	res = runCLI(t, nil, "--api-key", testAPIKey, "tasks", "wait", "-h")
	if res.code != exitOK {
		t.Errorf("tasks wait -h: exit code = %d, want 0", res.code)
	}
	// runCLI fails the test when the API key appears in the output.
}

func TestOfflineCommandHelpHidesGlobalFlags(t *testing.T) {
	for _, args := range [][]string{{"evidence", "verify", "-h"}, {"help", "evidence", "verify"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			res := runCLI(t, nil, args...)
			if res.code != exitOK {
				t.Fatalf("exit code = %d, want 0", res.code)
			}
			out := res.stdout + res.stderr
			if !strings.Contains(out, "-json") {
				t.Errorf("help lacks -json:\n%s", out)
			}
			for _, global := range []string{"-console", "-api-key", "-ca ", "global flags"} {
				if strings.Contains(out, global) {
					t.Errorf("help of an offline command shows %q:\n%s", global, out)
				}
			}
		})
	}
}

func TestOfflineCommandIgnoresGlobalFlags(t *testing.T) {
	path := writeTestPackage(t)
	res := runCLI(t, nil, "evidence", "verify", path, "--console", "https://127.0.0.1:1", "--api-key", testAPIKey)
	if res.code != exitOK {
		t.Errorf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		t.Run(args[0], func(t *testing.T) {
			res := runCLI(t, nil, args...)
			if res.code != exitOK {
				t.Errorf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
			}
			if want := version.Version + "\n"; res.stdout != want {
				t.Errorf("stdout = %q, want %q", res.stdout, want)
			}
		})
	}

	res := runCLI(t, nil, "version", "extra")
	if res.code != exitUsage {
		t.Errorf("version with an argument: exit code = %d, want %d", res.code, exitUsage)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "missing command"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"group without subcommand", []string{"tasks"}, `"tasks" needs a subcommand: list, show, cancel, wait`},
		{"unknown subcommand", []string{"tasks", "explode"}, `unknown command "tasks explode"`},
		{"missing argument", []string{"tasks", "wait"}, "wrong number of arguments to tasks wait: got 0, want 1 (usage: magpie tasks wait ID"},
		{"unknown flag", []string{"tasks", "list", "--bogus"}, "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, nil, tt.args...)
			if res.code != exitUsage {
				t.Errorf("exit code = %d, want %d", res.code, exitUsage)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.want)
			}
		})
	}
}

func TestAPIErrorShowsStatusAndMessage(t *testing.T) {
	fc := newFakeConsole(t)
	env := fc.env()

	res := runCLI(t, env, "triggers", "create", "--name", "x", "--profile", "triage")
	if res.code != exitOK {
		t.Fatalf("first create: exit code = %d; stderr: %s", res.code, res.stderr)
	}
	res = runCLI(t, env, "triggers", "create", "--name", "x", "--profile", "triage")
	if res.code != exitFailure {
		t.Errorf("second create: exit code = %d, want %d", res.code, exitFailure)
	}
	want := "magpie: create trigger: 409 Conflict: trigger \"x\" already exists\n"
	if res.stderr != want {
		t.Errorf("stderr = %q, want %q", res.stderr, want)
	}
}

func TestUnauthorizedPointsAtAPIKey(t *testing.T) {
	fc := newFakeConsole(t)
	env := fc.env()
	env[envAPIKey] = "revoked-key"

	res := runCLI(t, env, "responders", "list")
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	want := "magpie: list responders: 401 Unauthorized: invalid API key (check --api-key or MAGPIE_API_KEY)\n"
	if res.stderr != want {
		t.Errorf("stderr = %q, want %q", res.stderr, want)
	}
	if strings.Contains(res.stderr, "revoked-key") {
		t.Errorf("stderr prints the API key: %q", res.stderr)
	}
}

func TestConnectionFailureNamesURL(t *testing.T) {
	// Take a free port and close it, so the dial is refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "https://" + ln.Addr().String()
	ln.Close()

	res := runCLI(t, map[string]string{envConsole: url, envAPIKey: testAPIKey}, "responders", "list")
	if res.code != exitFailure {
		t.Errorf("exit code = %d, want %d", res.code, exitFailure)
	}
	for _, want := range []string{"connect to console " + url + " failed", "check --console (MAGPIE_CONSOLE) and --ca (MAGPIE_CA)"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr = %q, want it to contain %q", res.stderr, want)
		}
	}
}

func TestCATrustsOnlyGivenCA(t *testing.T) {
	fc := newFakeConsole(t)
	other := newCAServer(t)

	tests := []struct {
		name     string
		console  string
		caFile   string
		wantCode int
		wantErr  []string
	}{
		{"own CA trusted", other.srv.URL, other.caFile, exitOK, nil},
		{"other CA rejected", other.srv.URL, fc.caFile, exitFailure, []string{
			"TLS handshake with console " + other.srv.URL + " failed",
			"certificate signed by unknown authority",
			"the CA in " + fc.caFile + " (--ca or MAGPIE_CA) did not sign the console's certificate",
		}},
		{"system pool rejects private CA", other.srv.URL, "", exitFailure, []string{
			"TLS handshake with console " + other.srv.URL + " failed",
			"certificate signed by unknown authority",
			"pass --ca (MAGPIE_CA)",
		}},
		{"wrong host name", "https://localhost:" + other.srv.URL[strings.LastIndex(other.srv.URL, ":")+1:], other.caFile, exitFailure, []string{
			"wanted to match localhost",
			"check that --console (MAGPIE_CONSOLE) uses a host name or IP address the console's certificate covers",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{envConsole: tt.console, envAPIKey: testAPIKey, envCA: tt.caFile}
			res := runCLI(t, env, "responders", "list", "--json")
			if res.code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d; stderr: %s", res.code, tt.wantCode, res.stderr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr = %q, want it to contain %q", res.stderr, want)
				}
			}
		})
	}
}

func TestCAFileWithoutCertificate(t *testing.T) {
	path := writeCertPEM(t, nil)
	env := map[string]string{envConsole: "https://127.0.0.1:8443", envAPIKey: testAPIKey}
	res := runCLI(t, env, "responders", "list", "--ca", path+".missing")
	if !strings.Contains(res.stderr, "read CA file (--ca or MAGPIE_CA)") {
		t.Errorf("missing CA file: stderr = %q", res.stderr)
	}

	res = runCLI(t, env, "--ca", "/dev/null", "responders", "list")
	if !strings.Contains(res.stderr, "contains no PEM certificate") {
		t.Errorf("empty CA file: stderr = %q", res.stderr)
	}
}

// caServer is a console stand-in whose certificate a private CA signs.
type caServer struct {
	srv    *httptest.Server
	caFile string
}

// newCAServer starts an HTTPS server on loopback with a certificate for
// 127.0.0.1 signed by a fresh CA, and writes that CA's PEM to a file.
func newCAServer(t *testing.T) *caServer {
	t.Helper()

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "magpie test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "console"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTemplate, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		replyJSON(w, http.StatusOK, map[string]any{"responders": []any{}})
	}))
	// The rejected handshakes are the point of the tests using this server.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	return &caServer{srv: srv, caFile: writeCertPEM(t, caDER)}
}
