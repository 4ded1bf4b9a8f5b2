package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/magpie-ir/magpie/console/apitypes"
	"github.com/magpie-ir/magpie/internal/version"
)

// requestTimeout bounds one API call that returns JSON. Evidence downloads
// have no overall bound because packages can be gigabytes; the transport's
// dial, TLS and response-header timeouts still apply to them.
const requestTimeout = 60 * time.Second

// maxErrorBody is how much of a non-2xx body is read to find its message.
const maxErrorBody = 64 << 10

// apiError is a non-2xx reply of the console.
type apiError struct {
	StatusCode int
	// Message is the Error field of the reply body, or the start of the
	// body when it is not an apitypes.Error.
	Message string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.StatusCode == http.StatusUnauthorized {
		msg += " (check --api-key or " + envAPIKey + ")"
	}
	return msg
}

// client calls the console's /api/v1 routes.
type client struct {
	base   *url.URL
	apiKey string
	caFile string // "" when the system's trusted CAs verify the console
	http   *http.Client
}

// client returns an API client built from the global options, reading the
// environment variables for options not given as flags.
func (a *app) client() (*client, error) {
	a.global.resolve(a.getenv)

	if a.global.console == "" {
		return nil, usageError(fmt.Errorf("missing console URL: set --console or %s, for example https://127.0.0.1:8443", envConsole))
	}
	if a.global.apiKey == "" {
		return nil, usageError(fmt.Errorf("missing API key: set --api-key or %s", envAPIKey))
	}

	base, err := parseConsoleURL(a.global.console)
	if err != nil {
		return nil, usageError(err)
	}

	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.global.caFile != "" {
		pool, err := loadCAPool(a.global.caFile)
		if err != nil {
			return nil, err
		}
		tlsConfig.RootCAs = pool
	}

	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: requestTimeout,
		ForceAttemptHTTP2:     true,
	}
	return &client{
		base:   base,
		apiKey: a.global.apiKey,
		caFile: a.global.caFile,
		http:   &http.Client{Transport: transport},
	}, nil
}

func parseConsoleURL(raw string) (*url.URL, error) {
	wantHTTPS := fmt.Errorf("invalid console URL %q: want https://HOST:PORT (set --console or %s)", raw, envConsole)

	// Without a scheme, url.Parse either fails on "HOST:PORT" or reads HOST
	// as the scheme. Neither error shows the expected form.
	if !strings.Contains(raw, "://") {
		return nil, wantHTTPS
	}
	u, err := url.Parse(raw)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fmt.Errorf("invalid console URL %q: %w", raw, err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return nil, wantHTTPS
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid console URL %q: remove the query and fragment", raw)
	}
	return u, nil
}

// loadCAPool returns a pool containing only the certificates in the PEM file.
func loadCAPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA file (--ca or %s): %w", envCA, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("CA file %s (--ca or %s) contains no PEM certificate", path, envCA)
	}
	return pool, nil
}

// endpoint returns the URL of an API route under the console's base URL.
// Each segment is escaped, so a trigger name cannot add path segments.
func (c *client) endpoint(query url.Values, segments ...string) *url.URL {
	u := *c.base
	path := strings.TrimSuffix(u.Path, "/")
	rawPath := strings.TrimSuffix(u.EscapedPath(), "/")
	for _, s := range segments {
		path += "/" + s
		rawPath += "/" + url.PathEscape(s)
	}
	u.Path = path
	u.RawPath = rawPath
	u.RawQuery = query.Encode()
	return &u
}

// getJSON sends GET to the route and decodes the JSON reply into out.
func (c *client) getJSON(ctx context.Context, out any, query url.Values, segments ...string) error {
	return c.doJSON(ctx, http.MethodGet, nil, out, query, segments...)
}

// postJSON sends POST with in as JSON body (none when in is nil) and
// decodes the JSON reply into out.
func (c *client) postJSON(ctx context.Context, in, out any, segments ...string) error {
	return c.doJSON(ctx, http.MethodPost, in, out, nil, segments...)
}

func (c *client) doJSON(ctx context.Context, method string, in, out any, query url.Values, segments ...string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()

	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(data)
	}

	resp, err := c.send(ctx, method, c.endpoint(query, segments...), body, "application/json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode reply of %s %s: %w", method, resp.Request.URL.Path, err)
	}
	return nil
}

// send sends one request and returns the response when its status is 2xx.
// Other statuses become an *apiError and connection failures an error that
// names the console URL and the flags to check.
func (c *client) send(ctx context.Context, method string, u *url.URL, body io.Reader, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "magpie/"+version.Version)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.connectionError(err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, readAPIError(resp)
	}
	return resp, nil
}

func readAPIError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &apiError{StatusCode: resp.StatusCode}

	var body apitypes.Error
	if json.Unmarshal(data, &body) == nil && body.Error != "" {
		e.Message = body.Error
	} else {
		e.Message = strings.TrimSpace(string(data))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "..."
		}
	}
	return e
}

// connectionError explains a failed request: TLS verification failures
// point at --ca, other transport errors at --console.
func (c *client) connectionError(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	consoleURL := c.base.String()

	// A *url.Error repeats the method and URL; the message names the
	// console URL once instead.
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}

	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var verifyErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknownCA) && c.caFile == "":
		return fmt.Errorf("TLS handshake with console %s failed: %w; pass --ca (%s) with the PEM certificate of the CA that signed the console's certificate",
			consoleURL, err, envCA)
	case errors.As(err, &unknownCA):
		return fmt.Errorf("TLS handshake with console %s failed: %w; the CA in %s (--ca or %s) did not sign the console's certificate: pass the CA that did",
			consoleURL, err, c.caFile, envCA)
	case errors.As(err, &hostErr):
		return fmt.Errorf("TLS handshake with console %s failed: %w; check that --console (%s) uses a host name or IP address the console's certificate covers",
			consoleURL, err, envConsole)
	case errors.As(err, &invalidCert), errors.As(err, &verifyErr):
		return fmt.Errorf("TLS handshake with console %s failed: %w; check --ca (%s) and the console's certificate",
			consoleURL, err, envCA)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("request to console %s timed out: %w; check --console (%s)", consoleURL, err, envConsole)
	default:
		return fmt.Errorf("connect to console %s failed: %w; check --console (%s) and --ca (%s)", consoleURL, err, envConsole, envCA)
	}
}
