// Package agent is the responder: it enrolls with the console, keeps one
// control stream open, runs the assignments the console pushes and uploads
// the evidence packages they produce.
package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"github.com/magpie-ir/magpie/collectors/profile"
	"github.com/magpie-ir/magpie/internal/backoff"
	"github.com/magpie-ir/magpie/internal/hostinfo"
	"github.com/magpie-ir/magpie/internal/version"
	pb "github.com/magpie-ir/magpie/proto/magpie/v1"
)

// Reconnect delays; the first retry comes after about a second, the
// longest wait is a minute.
const (
	minReconnectDelay = time.Second
	maxReconnectDelay = time.Minute
)

// gRPC transport sizes for evidence uploads.
const (
	flowControlWindow   = 8 << 20
	transportBufferSize = 256 << 10
)

// Config configures an Agent.
type Config struct {
	// ConsoleAddr is the console's gRPC address, host:port.
	ConsoleAddr string
	// CAFile is the console's CA certificate, needed to enroll.
	CAFile string
	// EnrollToken is needed only until the responder has enrolled.
	EnrollToken string
	// StateDir keeps the responder's key, certificate and identity.
	StateDir string
	// Root is the directory collected as "/"; empty means "/".
	Root string
	// Hostname overrides the reported hostname; empty means the OS's.
	Hostname string
	// ProfilesDir adds or overrides acquisition profiles.
	ProfilesDir string
	// Concurrency is how many assignments run at once; zero means one.
	Concurrency int
	// Log receives the responder's log; nil means slog.Default.
	Log *slog.Logger
}

// Agent is a responder.
type Agent struct {
	cfg      Config
	log      *slog.Logger
	version  string
	profiles *profile.Catalog

	// outbox carries messages for the console; the current control stream
	// drains it, so results reported while disconnected are sent after the
	// next connect.
	outbox chan *pb.ResponderMessage
	queue  chan *pb.Assignment

	mu      sync.Mutex
	running map[string]*job // queued or running assignments
}

// New validates cfg and returns an Agent.
func New(cfg Config) (*Agent, error) {
	if cfg.ConsoleAddr == "" {
		return nil, errors.New("missing console address: pass --console HOST:PORT (the console's --grpc-listen address)")
	}
	if cfg.Root == "" {
		cfg.Root = "/"
	}
	if info, err := os.Stat(cfg.Root); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("collection root %q is not a directory: pass --root DIR with an existing directory", cfg.Root)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	profiles, err := profile.Load(cfg.ProfilesDir)
	if err != nil {
		return nil, fmt.Errorf("load acquisition profiles: %w", err)
	}
	return &Agent{
		cfg:      cfg,
		log:      cfg.Log,
		version:  version.Version,
		profiles: profiles,
		outbox:   make(chan *pb.ResponderMessage, 1024),
		queue:    make(chan *pb.Assignment, 1024),
		running:  make(map[string]*job),
	}, nil
}

// Run enrolls if needed, then serves the console until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	if err := prepareStateDir(a.cfg.StateDir); err != nil {
		return err
	}
	spool := filepath.Join(a.cfg.StateDir, "spool")
	if err := os.RemoveAll(spool); err != nil {
		return fmt.Errorf("clear spool: %w", err)
	}
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return fmt.Errorf("create spool: %w", err)
	}

	st, err := a.enroll(ctx)
	if err != nil {
		return err
	}
	creds := credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{st.cert},
		RootCAs:      st.caPool,
		MinVersion:   tls.VersionTLS13,
	})
	conn, err := grpc.NewClient(a.cfg.ConsoleAddr,
		grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 20 * time.Second, PermitWithoutStream: true}),
		// Large fixed windows keep an upload of 256 KiB chunks from waiting on
		// flow control; the default window starts at 64 KiB and grows.
		grpc.WithInitialWindowSize(flowControlWindow),
		grpc.WithInitialConnWindowSize(flowControlWindow),
		grpc.WithReadBufferSize(transportBufferSize),
		grpc.WithWriteBufferSize(transportBufferSize),
	)
	if err != nil {
		return fmt.Errorf("connect to console %s: %w", a.cfg.ConsoleAddr, err)
	}
	defer conn.Close()
	client := pb.NewRespondersClient(conn)

	// The workers stop when Run returns for any reason, including a
	// console that rejects this responder.
	workCtx, stopWork := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range a.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.work(workCtx, client, spool)
		}()
	}
	defer func() {
		stopWork()
		wg.Wait()
		a.log.Info("responder stopped")
	}()

	a.log.Info("responder started", "responder_id", st.ResponderID, "console", a.cfg.ConsoleAddr, "root", a.cfg.Root, "concurrency", a.cfg.Concurrency, "version", a.version)
	bo := backoff.New(minReconnectDelay, maxReconnectDelay)
	for {
		connected, err := a.session(ctx, client)
		if ctx.Err() != nil {
			a.log.Info("responder stopping")
			return nil
		}
		if errors.Is(err, io.EOF) {
			err = errors.New("console closed the control stream")
		}
		if connected {
			bo.Reset()
		}
		if status.Code(err) == codes.PermissionDenied || status.Code(err) == codes.FailedPrecondition {
			return fmt.Errorf("console rejected this responder: %w", err)
		}
		delay, werr := bo.Wait(ctx)
		a.log.Warn("control stream ended, reconnecting", "error", err, "retry_in", delay.Round(time.Millisecond))
		if werr != nil {
			return nil
		}
	}
}

// session runs one control stream until it breaks. connected reports
// whether the console welcomed the responder.
func (a *Agent) session(ctx context.Context, client pb.RespondersClient) (connected bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	host, err := hostinfo.Collect(a.cfg.Hostname)
	if err != nil {
		a.log.Warn("collect host information failed", "error", err)
	}
	// Without WaitForReady a console that is down or untrusted fails the
	// call at once, so the reconnect loop logs why instead of waiting
	// silently.
	stream, err := client.Connect(ctx)
	if err != nil {
		return false, err
	}
	err = stream.Send(&pb.ResponderMessage{Msg: &pb.ResponderMessage_Hello{Hello: &pb.Hello{
		ProtocolVersion:      version.ProtocolVersion,
		Capabilities:         []pb.Capability{pb.Capability_CAPABILITY_PROGRESS, pb.Capability_CAPABILITY_CANCEL},
		Host:                 a.hostInfo(host),
		RunningAssignmentIds: a.runningIDs(),
	}}})
	if err != nil {
		return false, err
	}
	first, err := stream.Recv()
	if err != nil {
		return false, err
	}
	welcome := first.GetWelcome()
	if welcome == nil {
		return false, fmt.Errorf("console sent %T instead of Welcome after Hello", first.GetMsg())
	}
	a.log.Info("connected to console", "responder_id", welcome.GetResponderId(), "heartbeat_seconds", welcome.GetHeartbeatSeconds())

	heartbeat := time.Duration(welcome.GetHeartbeatSeconds()) * time.Second
	if heartbeat <= 0 {
		heartbeat = 30 * time.Second
	}
	sendErr := make(chan error, 1)
	go func() { sendErr <- a.sendLoop(ctx, stream, heartbeat) }()

	for {
		msg, err := stream.Recv()
		if err != nil {
			cancel()
			<-sendErr
			return true, err
		}
		switch m := msg.Msg.(type) {
		case *pb.ConsoleMessage_Assignment:
			a.accept(m.Assignment)
		case *pb.ConsoleMessage_Cancel:
			a.cancel(m.Cancel)
		}
	}
}

// sendLoop writes outbox messages and heartbeats to the stream; it is the
// only goroutine that sends on it.
func (a *Agent) sendLoop(ctx context.Context, stream pb.Responders_ConnectClient, interval time.Duration) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		var msg *pb.ResponderMessage
		select {
		case <-ctx.Done():
			return ctx.Err()
		case msg = <-a.outbox:
		case now := <-ticker.C:
			msg = &pb.ResponderMessage{Msg: &pb.ResponderMessage_Heartbeat{Heartbeat: &pb.Heartbeat{UnixMillis: now.UnixMilli()}}}
		}
		if err := stream.Send(msg); err != nil {
			if msg.GetResult() != nil {
				a.requeueResult(msg)
			}
			return err
		}
	}
}

// requeueResult puts an unsent result back so the next stream sends it.
func (a *Agent) requeueResult(msg *pb.ResponderMessage) {
	select {
	case a.outbox <- msg:
	default:
		a.log.Error("outbox full, dropping assignment result", "assignment_id", msg.GetResult().GetAssignmentId())
	}
}

// accept queues an assignment unless it is already queued or running.
func (a *Agent) accept(as *pb.Assignment) {
	a.mu.Lock()
	if _, ok := a.running[as.GetAssignmentId()]; ok {
		a.mu.Unlock()
		return
	}
	a.running[as.GetAssignmentId()] = &job{}
	a.mu.Unlock()

	a.log.Info("assignment received", "assignment_id", as.GetAssignmentId(), "task_id", as.GetTaskId(), "profile", as.GetProfile())
	select {
	case a.queue <- as:
	default:
		a.finish(as.GetAssignmentId())
		a.report(&pb.AssignmentResult{AssignmentId: as.GetAssignmentId(), Error: "responder queue full: too many assignments waiting"})
	}
}

// job tracks one queued or running assignment.
type job struct {
	cancel    context.CancelFunc // nil until the assignment starts
	cancelled bool
}

// cancel stops a running assignment, or marks a queued one so that it never
// starts.
func (a *Agent) cancel(c *pb.Cancel) {
	a.mu.Lock()
	j, ok := a.running[c.GetAssignmentId()]
	var stop context.CancelFunc
	if ok {
		j.cancelled = true
		stop = j.cancel
	}
	a.mu.Unlock()
	if !ok {
		return
	}
	a.log.Info("assignment cancel received", "assignment_id", c.GetAssignmentId(), "reason", c.GetReason())
	if stop != nil {
		stop()
	}
}

func (a *Agent) runningIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]string, 0, len(a.running))
	for id := range a.running {
		ids = append(ids, id)
	}
	return ids
}

func (a *Agent) finish(id string) {
	a.mu.Lock()
	delete(a.running, id)
	a.mu.Unlock()
}

// report queues a final result for the console.
func (a *Agent) report(r *pb.AssignmentResult) {
	a.outbox <- &pb.ResponderMessage{Msg: &pb.ResponderMessage_Result{Result: r}}
}

// progress queues a progress message, dropping it when the outbox is full:
// a later one supersedes it.
func (a *Agent) progress(p *pb.Progress) {
	select {
	case a.outbox <- &pb.ResponderMessage{Msg: &pb.ResponderMessage_Progress{Progress: p}}:
	default:
	}
}
