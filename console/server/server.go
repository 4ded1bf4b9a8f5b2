// Package server assembles a console: store, CA, evidence repository, gRPC
// listener for responders and HTTPS listener for the API and triggers.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/magpie-ir/magpie/collectors/profile"
	"github.com/magpie-ir/magpie/console/auth"
	"github.com/magpie-ir/magpie/console/dispatch"
	"github.com/magpie-ir/magpie/console/httpapi"
	"github.com/magpie-ir/magpie/console/pki"
	"github.com/magpie-ir/magpie/console/repository"
	"github.com/magpie-ir/magpie/console/rpcserver"
	"github.com/magpie-ir/magpie/console/store"
	"github.com/magpie-ir/magpie/console/store/sqlite"
	"github.com/magpie-ir/magpie/console/tasks"
)

// AdminKeyFile is the file in the data directory that receives the
// bootstrap admin API key on first start.
const AdminKeyFile = "admin-api-key"

// shutdownTimeout bounds a graceful stop.
const shutdownTimeout = 10 * time.Second

// Config configures a console.
type Config struct {
	// DataDir holds the database, the CA and the evidence repository.
	DataDir string
	// HTTPListen is the API and trigger address; empty means ":8443".
	HTTPListen string
	// GRPCListen is the responder address; empty means ":8444".
	GRPCListen string
	// HTTPTLS serves the API over HTTPS with a certificate from the
	// console's CA. Turn it off only behind a TLS-terminating proxy.
	HTTPTLS bool
	// PublicURL is the base of trigger URLs handed out; empty means
	// derived from HTTPListen and this host's name.
	PublicURL string
	// TLSNames are extra DNS names or IP addresses for the console's
	// server certificate, beyond localhost, this host's name and its
	// interface addresses.
	TLSNames []string
	// AssignmentExpiry is how long an assignment waits for an offline
	// responder; zero means 30 days.
	AssignmentExpiry time.Duration
	// ProfilesDir adds or overrides acquisition profiles; empty means the
	// built-in profiles only.
	ProfilesDir string
	// Log receives the console's structured log; nil means slog.Default.
	Log *slog.Logger
	// Stdout receives the one-time bootstrap admin API key; nil means
	// os.Stdout.
	Stdout io.Writer
}

func (c *Config) setDefaults() error {
	if c.DataDir == "" {
		return errors.New("missing data directory: pass --data-dir DIR")
	}
	if c.HTTPListen == "" {
		c.HTTPListen = ":8443"
	}
	if c.GRPCListen == "" {
		c.GRPCListen = ":8444"
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
	return nil
}

// Console is a running console.
type Console struct {
	cfg      Config
	log      *slog.Logger
	store    store.Store
	httpLn   net.Listener
	grpcLn   net.Listener
	httpSrv  *http.Server
	grpcStop func(graceful bool)
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// Start opens the data directory, creating the CA and the bootstrap admin
// API key on first start, and starts both listeners.
func Start(ctx context.Context, cfg Config) (*Console, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}

	profiles, err := profile.Load(cfg.ProfilesDir)
	if err != nil {
		return nil, fmt.Errorf("load acquisition profiles: %w", err)
	}
	ca, firstStart, err := pki.LoadOrCreate(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "magpie.db"))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	c := &Console{cfg: cfg, log: log, store: st}
	if err := c.start(ctx, ca, firstStart, profiles); err != nil {
		c.closeAll()
		return nil, err
	}
	return c, nil
}

func (c *Console) start(ctx context.Context, ca *pki.CA, firstStart bool, profiles *profile.Catalog) error {
	cfg := c.cfg
	if err := c.store.MarkAllOffline(ctx); err != nil {
		return fmt.Errorf("reset responder states: %w", err)
	}
	if firstStart {
		if err := c.bootstrapAdminKey(ctx); err != nil {
			return err
		}
	}

	repo, err := repository.NewLocal(filepath.Join(cfg.DataDir, "evidence"))
	if err != nil {
		return err
	}
	names, ips := certificateNames(cfg.TLSNames)
	serverCert, err := ca.ServerCertificate(names, ips)
	if err != nil {
		return err
	}

	c.httpLn, err = net.Listen("tcp", cfg.HTTPListen)
	if err != nil {
		return fmt.Errorf("listen for HTTP API on %s: %w", cfg.HTTPListen, err)
	}
	c.grpcLn, err = net.Listen("tcp", cfg.GRPCListen)
	if err != nil {
		return fmt.Errorf("listen for responders on %s: %w", cfg.GRPCListen, err)
	}

	hub := dispatch.NewHub()
	taskSvc := tasks.New(tasks.Config{Store: c.store, Hub: hub, Log: c.log.With("component", "tasks"), Expiry: cfg.AssignmentExpiry})
	rpc := rpcserver.New(rpcserver.Config{Store: c.store, Hub: hub, Tasks: taskSvc, CA: ca, Repository: repo, Log: c.log.With("component", "rpc")})
	grpcSrv := rpc.NewGRPCServer(serverCert)
	c.grpcStop = func(graceful bool) {
		if graceful {
			grpcSrv.GracefulStop()
		} else {
			grpcSrv.Stop()
		}
	}

	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = derivePublicURL(c.httpLn.Addr(), cfg.HTTPTLS)
	}
	api := httpapi.New(httpapi.Config{
		Store: c.store, Hub: hub, Tasks: taskSvc, Repository: repo, Profiles: profiles,
		Log: c.log.With("component", "http"), PublicURL: strings.TrimSuffix(publicURL, "/"),
	})
	c.httpSrv = &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(c.log.Handler(), slog.LevelWarn)}
	if cfg.HTTPTLS {
		c.httpSrv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12}
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	c.wg.Add(3)
	go func() {
		defer c.wg.Done()
		taskSvc.RunExpiry(runCtx, time.Minute)
	}()
	go func() {
		defer c.wg.Done()
		if err := grpcSrv.Serve(c.grpcLn); err != nil {
			c.log.Error("gRPC server stopped", "error", err)
		}
	}()
	go func() {
		defer c.wg.Done()
		var err error
		if cfg.HTTPTLS {
			err = c.httpSrv.ServeTLS(c.httpLn, "", "")
		} else {
			err = c.httpSrv.Serve(c.httpLn)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error("HTTP server stopped", "error", err)
		}
	}()

	if err := c.writeAddresses(publicURL); err != nil {
		return err
	}
	c.log.Info("console started", "data_dir", cfg.DataDir, "http_addr", c.httpLn.Addr().String(), "http_tls", cfg.HTTPTLS,
		"grpc_addr", c.grpcLn.Addr().String(), "public_url", publicURL, "ca", filepath.Join(cfg.DataDir, pki.CACertFile))
	return nil
}

// bootstrapAdminKey creates the first admin API key, writes it to
// DATA_DIR/admin-api-key with mode 0600 and prints it once.
func (c *Console) bootstrapAdminKey(ctx context.Context) error {
	tok := auth.NewToken(httpapi.APIKeyPrefix)
	key := store.APIKey{ID: tok.ID, Name: "admin", SecretHash: auth.Hash(tok.Secret), Role: "admin", CreatedAt: time.Now().UTC()}
	if err := c.store.CreateAPIKey(ctx, key); err != nil {
		return fmt.Errorf("create bootstrap admin API key: %w", err)
	}
	path := filepath.Join(c.cfg.DataDir, AdminKeyFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write bootstrap admin API key: %w", err)
	}
	_, err = fmt.Fprintln(f, tok.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write bootstrap admin API key: %w", err)
	}
	fmt.Fprintf(c.cfg.Stdout, "Bootstrap admin API key (shown once; also in %s):\n%s\n", path, tok.String())
	c.log.Info("bootstrap admin API key created", "key_id", tok.ID, "path", path)
	return nil
}

// AddressesFile is written on every start with the addresses the console
// listens on, so scripts can use port 0 and still find the console.
const AddressesFile = "addresses.json"

func (c *Console) writeAddresses(publicURL string) error {
	raw, err := json.MarshalIndent(map[string]string{
		"http":       c.httpLn.Addr().String(),
		"grpc":       c.grpcLn.Addr().String(),
		"public_url": publicURL,
	}, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(c.cfg.DataDir, AddressesFile)
	if err := os.WriteFile(path+".tmp", append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(path+".tmp", path)
}

// HTTPAddr returns the address the API listens on.
func (c *Console) HTTPAddr() net.Addr { return c.httpLn.Addr() }

// GRPCAddr returns the address responders connect to.
func (c *Console) GRPCAddr() net.Addr { return c.grpcLn.Addr() }

// Stop shuts both listeners down, waiting at most shutdownTimeout for
// uploads and requests in flight, and closes the store.
func (c *Console) Stop() {
	c.log.Info("console stopping")
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()

	c.httpSrv.Shutdown(ctx)
	done := make(chan struct{})
	go func() {
		c.grpcStop(true)
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		c.log.Warn("graceful stop timed out, closing responder streams", "timeout", shutdownTimeout)
		c.grpcStop(false)
	}
	c.cancel()
	c.wg.Wait()
	c.closeAll()
	c.log.Info("console stopped")
}

func (c *Console) closeAll() {
	if c.httpLn != nil {
		c.httpLn.Close()
	}
	if c.grpcLn != nil {
		c.grpcLn.Close()
	}
	if err := c.store.Close(); err != nil {
		c.log.Error("close store failed", "error", err)
	}
}

// certificateNames lists the names the server certificate covers.
func certificateNames(extra []string) ([]string, []net.IP) {
	names := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if host, err := os.Hostname(); err == nil && host != "" {
		names = append(names, host)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipnet, ok := a.(*net.IPNet); ok && !ipnet.IP.IsLoopback() {
				ips = append(ips, ipnet.IP)
			}
		}
	}
	for _, e := range extra {
		if ip := net.ParseIP(e); ip != nil {
			ips = append(ips, ip)
		} else if e != "" {
			names = append(names, e)
		}
	}
	return names, ips
}

func derivePublicURL(addr net.Addr, useTLS bool) string {
	scheme := "https"
	if !useTLS {
		scheme = "http"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
