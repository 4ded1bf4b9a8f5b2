package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/magpie-ir/magpie/collectors"
	"github.com/magpie-ir/magpie/internal/backoff"
	"github.com/magpie-ir/magpie/internal/evidence"
	"github.com/magpie-ir/magpie/internal/hostinfo"
	pb "github.com/magpie-ir/magpie/proto/magpie/v1"
)

// Upload tuning.
const (
	uploadChunkSize = 256 << 10
	uploadAttempts  = 5
	progressEvery   = time.Second
)

// work runs queued assignments one after another until ctx ends.
func (a *Agent) work(ctx context.Context, client pb.RespondersClient, spool string) {
	for {
		select {
		case <-ctx.Done():
			return
		case as := <-a.queue:
			a.runOne(ctx, client, spool, as)
		}
	}
}

func (a *Agent) runOne(ctx context.Context, client pb.RespondersClient, spool string, as *pb.Assignment) {
	id := as.GetAssignmentId()
	log := a.log.With("assignment_id", id, "task_id", as.GetTaskId())
	defer a.finish(id)

	a.mu.Lock()
	j := a.running[id]
	if j == nil || j.cancelled {
		a.mu.Unlock()
		a.report(&pb.AssignmentResult{AssignmentId: id, Cancelled: true})
		return
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	j.cancel = cancel
	a.mu.Unlock()

	start := time.Now()
	pkg, err := a.collect(runCtx, spool, as)
	if err == nil {
		log.Info("collection finished", "size", pkg.Size, "sha256", pkg.SHA256, "files", pkg.Manifest.Summary.FilesCollected, "bytes", pkg.Manifest.Summary.BytesCollected, "duration", time.Since(start).Round(time.Millisecond))
		err = a.upload(runCtx, client, as, pkg)
		os.Remove(pkg.Path)
	}

	switch {
	case err == nil:
		log.Info("evidence uploaded", "duration", time.Since(start).Round(time.Millisecond))
	case runCtx.Err() != nil && ctx.Err() == nil:
		log.Info("assignment cancelled")
		a.report(&pb.AssignmentResult{AssignmentId: id, Cancelled: true})
	case ctx.Err() != nil:
		// Shutting down: the console requeues the assignment when this
		// responder reconnects without it.
	default:
		log.Error("assignment failed", "error", err)
		if status.Code(err) != codes.DataLoss {
			a.report(&pb.AssignmentResult{AssignmentId: id, Error: err.Error()})
		}
	}
}

// collect runs the assignment's profile into a package in the spool.
func (a *Agent) collect(ctx context.Context, spool string, as *pb.Assignment) (*evidence.Package, error) {
	prof, err := a.profiles.Get(as.GetProfile())
	if err != nil {
		return nil, err
	}
	host, _ := hostinfo.Collect(a.cfg.Hostname)
	var ips []string
	for _, iface := range host.Interfaces {
		ips = append(ips, iface.Addresses...)
	}
	st, err := loadState(a.cfg.StateDir)
	if err != nil {
		return nil, err
	}

	w, err := evidence.NewWriter(evidence.WriterOptions{
		SpoolDir: spool,
		Header: evidence.Header{
			TaskID:       as.GetTaskId(),
			AssignmentID: as.GetAssignmentId(),
			Trigger:      as.GetTriggerName(),
			Profile:      prof.Name,
			Root:         a.cfg.Root,
			Started:      time.Now().UTC(),
			Responder: evidence.ResponderIdentity{
				ID: st.ResponderID, Hostname: host.Hostname, FQDN: host.FQDN,
				OS: runtime.GOOS, Arch: runtime.GOARCH, Version: a.version, IPs: ips,
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("start evidence package: %w", err)
	}
	defer w.Abort()

	a.progress(&pb.Progress{AssignmentId: as.GetAssignmentId(), State: pb.AssignmentState_ASSIGNMENT_STATE_RUNNING, Message: "collecting"})
	var last time.Time
	err = collectors.Run(ctx, collectors.Options{
		Profile: prof,
		Root:    a.cfg.Root,
		Progress: func(files, bytes int64) {
			if now := time.Now(); now.Sub(last) >= progressEvery {
				last = now
				a.progress(&pb.Progress{AssignmentId: as.GetAssignmentId(), State: pb.AssignmentState_ASSIGNMENT_STATE_RUNNING, FilesDone: files, BytesRead: bytes})
			}
		},
	}, w)
	if err != nil {
		return nil, err
	}
	return w.Close()
}

// upload sends the package, retrying with backoff while the console is
// unreachable. A rejected package (DataLoss) is not retried.
func (a *Agent) upload(ctx context.Context, client pb.RespondersClient, as *pb.Assignment, pkg *evidence.Package) error {
	a.progress(&pb.Progress{AssignmentId: as.GetAssignmentId(), State: pb.AssignmentState_ASSIGNMENT_STATE_UPLOADING, Message: "uploading"})
	bo := backoff.New(time.Second, 30*time.Second)
	var err error
	for attempt := 1; attempt <= uploadAttempts; attempt++ {
		err = a.uploadOnce(ctx, client, as.GetAssignmentId(), pkg)
		if err == nil || ctx.Err() != nil {
			return err
		}
		switch status.Code(err) {
		case codes.DataLoss, codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition, codes.PermissionDenied:
			return err
		}
		delay, werr := bo.Wait(ctx)
		a.log.Warn("evidence upload failed, retrying", "assignment_id", as.GetAssignmentId(), "attempt", attempt, "error", err, "retry_in", delay.Round(time.Millisecond))
		if werr != nil {
			return werr
		}
	}
	return fmt.Errorf("upload evidence: gave up after %d attempts: %w", uploadAttempts, err)
}

func (a *Agent) uploadOnce(ctx context.Context, client pb.RespondersClient, assignmentID string, pkg *evidence.Package) error {
	f, err := os.Open(pkg.Path)
	if err != nil {
		return fmt.Errorf("open package: %w", err)
	}
	defer f.Close()

	stream, err := client.UploadEvidence(ctx, grpc.WaitForReady(true))
	if err != nil {
		return err
	}
	// The header carries the collection's totals, which the throttled
	// progress reports may have missed.
	err = stream.Send(&pb.UploadRequest{Msg: &pb.UploadRequest_Header{Header: &pb.UploadHeader{
		AssignmentId:   assignmentID,
		Size:           pkg.Size,
		FilesCollected: pkg.Manifest.Summary.FilesCollected,
		BytesCollected: pkg.Manifest.Summary.BytesCollected,
	}}})
	if err != nil {
		return closeErr(stream, err)
	}

	// The console hashes what it receives and rejects the package when the
	// hash differs from pkg.SHA256, so the bytes are not hashed again here.
	buf := make([]byte, uploadChunkSize)
	var offset int64
	for {
		n, rerr := io.ReadFull(f, buf)
		if n > 0 {
			err := stream.Send(&pb.UploadRequest{Msg: &pb.UploadRequest_Chunk{Chunk: &pb.UploadChunk{Offset: offset, Data: buf[:n]}}})
			if err != nil {
				return closeErr(stream, err)
			}
			offset += int64(n)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return fmt.Errorf("read package: %w", rerr)
		}
	}
	err = stream.Send(&pb.UploadRequest{Msg: &pb.UploadRequest_Trailer{Trailer: &pb.UploadTrailer{Sha256: pkg.SHA256}}})
	if err != nil {
		return closeErr(stream, err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return err
	}
	if resp.GetSha256() != pkg.SHA256 {
		return fmt.Errorf("console stored sha256 %s, sent %s", resp.GetSha256(), pkg.SHA256)
	}
	return nil
}

// closeErr returns the server's status when a Send failed because the
// server ended the stream, which is more useful than io.EOF.
func closeErr(stream pb.Responders_UploadEvidenceClient, err error) error {
	if errors.Is(err, io.EOF) {
		if _, rerr := stream.CloseAndRecv(); rerr != nil {
			return rerr
		}
	}
	return err
}
