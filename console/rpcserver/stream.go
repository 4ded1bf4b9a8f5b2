package rpcserver

import (
	"context"
	"errors"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/magpie-ir/magpie/console/store"
	"github.com/magpie-ir/magpie/console/tasks"
	"github.com/magpie-ir/magpie/internal/version"
	pb "github.com/magpie-ir/magpie/proto/magpie/v1"
)

// helloTimeout bounds how long a new stream may stay silent before Hello.
const helloTimeout = 30 * time.Second

// lastSeenEvery limits how often heartbeats are written to the store.
const lastSeenEvery = time.Minute

var consoleCapabilities = []pb.Capability{pb.Capability_CAPABILITY_PROGRESS, pb.Capability_CAPABILITY_CANCEL}

// Connect runs one responder's control stream.
func (s *Server) Connect(stream pb.Responders_ConnectServer) error {
	ctx := stream.Context()
	rid := responderID(ctx)
	log := s.log.With("responder_id", rid)

	hello, err := recvHello(stream)
	if err != nil {
		return err
	}
	if v := hello.GetProtocolVersion(); v != version.ProtocolVersion {
		return status.Errorf(codes.FailedPrecondition, "responder speaks protocol version %d, console speaks %d: upgrade the older side", v, version.ProtocolVersion)
	}

	if err := s.updateHost(ctx, rid, hello.GetHost()); err != nil {
		return status.Errorf(codes.Internal, "update responder: %v", err)
	}
	session, unregister := s.hub.Register(rid)
	defer func() {
		unregister()
		// The stream's context is done by now; record the disconnect anyway.
		offCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.store.SetResponderOnline(offCtx, rid, false, s.now().UTC()); err != nil {
			log.Error("record responder offline failed", "error", err)
		}
		log.Info("responder disconnected")
	}()
	log.Info("responder connected", "hostname", hello.GetHost().GetHostname(), "running", len(hello.GetRunningAssignmentIds()))

	err = stream.Send(&pb.ConsoleMessage{Msg: &pb.ConsoleMessage_Welcome{Welcome: &pb.Welcome{
		ResponderId:      rid,
		ProtocolVersion:  version.ProtocolVersion,
		Capabilities:     consoleCapabilities,
		HeartbeatSeconds: uint32(HeartbeatInterval / time.Second),
	}}})
	if err != nil {
		return err
	}

	sent, err := s.requeueLost(ctx, rid, hello.GetRunningAssignmentIds())
	if err != nil {
		return status.Errorf(codes.Internal, "load assignments: %v", err)
	}

	incoming := make(chan *pb.ResponderMessage)
	recvErr := make(chan error, 1)
	go func() {
		for {
			msg, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case incoming <- msg:
			case <-ctx.Done():
				return
			}
		}
	}()

	lastSeen := s.now()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-session.Done:
			if session.Revoked() {
				revokedAt := s.now().UTC()
				if r, err := s.store.GetResponder(context.WithoutCancel(ctx), rid); err == nil {
					revokedAt = r.RevokedAt
				}
				return status.Errorf(codes.PermissionDenied, revokedMessage, rid, revokedAt.Format(time.RFC3339))
			}
			return status.Error(codes.Aborted, "a newer connection of this responder replaced this one")
		case err := <-recvErr:
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		case <-session.Wake:
			if err := s.sendOpen(ctx, stream, rid, sent); err != nil {
				return err
			}
		case req := <-session.Cancel:
			err := stream.Send(&pb.ConsoleMessage{Msg: &pb.ConsoleMessage_Cancel{Cancel: &pb.Cancel{AssignmentId: req.AssignmentID, Reason: req.Reason}}})
			if err != nil {
				return err
			}
		case msg := <-incoming:
			if now := s.now(); now.Sub(lastSeen) >= lastSeenEvery {
				lastSeen = now
				if err := s.store.SetResponderOnline(ctx, rid, true, now.UTC()); err != nil {
					log.Error("record last seen failed", "error", err)
				}
			}
			s.handleMessage(ctx, rid, msg)
		}
	}
}

func recvHello(stream pb.Responders_ConnectServer) (*pb.Hello, error) {
	type result struct {
		msg *pb.ResponderMessage
		err error
	}
	ch := make(chan result, 1)
	go func() {
		msg, err := stream.Recv()
		ch <- result{msg, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		if r.msg.GetHello() == nil {
			return nil, status.Error(codes.InvalidArgument, "first message on the stream must be Hello")
		}
		return r.msg.GetHello(), nil
	case <-time.After(helloTimeout):
		return nil, status.Errorf(codes.DeadlineExceeded, "no Hello within %s", helloTimeout)
	}
}

func (s *Server) updateHost(ctx context.Context, rid string, host *pb.HostInfo) error {
	current, err := s.store.GetResponder(ctx, rid)
	if err != nil {
		return err
	}
	updated := responderFromHost(rid, host)
	updated.CertSerial = current.CertSerial
	updated.FirstSeen = current.FirstSeen
	updated.LastSeen = s.now().UTC()
	updated.Online = true
	if updated.Hostname == "" {
		updated.Hostname = current.Hostname
	}
	return s.store.UpsertResponder(ctx, updated)
}

// requeueLost moves assignments that the console had sent but the
// responder no longer runs (it restarted) back to assigned, and returns the
// set of assignments the responder is still running, which must not be
// sent again.
func (s *Server) requeueLost(ctx context.Context, rid string, running []string) (map[string]bool, error) {
	open, err := s.store.OpenAssignments(ctx, rid, s.now().UTC())
	if err != nil {
		return nil, err
	}
	sent := make(map[string]bool)
	for _, a := range open {
		if slices.Contains(running, a.ID) {
			sent[a.ID] = true
			continue
		}
		if a.State == store.StateRunning || a.State == store.StateUploading {
			if _, err := s.tasks.Requeue(ctx, a.ID); err != nil {
				s.log.Error("requeue lost assignment failed", "assignment_id", a.ID, "error", err)
				continue
			}
			s.log.Info("assignment requeued after responder restart", "assignment_id", a.ID, "responder_id", rid)
		}
	}
	return sent, nil
}

// sendOpen pushes every open assignment the stream has not carried yet.
func (s *Server) sendOpen(ctx context.Context, stream pb.Responders_ConnectServer, rid string, sent map[string]bool) error {
	open, err := s.store.OpenAssignments(ctx, rid, s.now().UTC())
	if err != nil {
		return status.Errorf(codes.Internal, "load assignments: %v", err)
	}
	for _, a := range open {
		if sent[a.ID] || (a.State != store.StatePending && a.State != store.StateAssigned) {
			continue
		}
		task, err := s.store.GetTask(ctx, a.TaskID)
		if err != nil {
			return status.Errorf(codes.Internal, "load task %s: %v", a.TaskID, err)
		}
		err = stream.Send(&pb.ConsoleMessage{Msg: &pb.ConsoleMessage_Assignment{Assignment: &pb.Assignment{
			AssignmentId:      a.ID,
			TaskId:            a.TaskID,
			TriggerName:       task.TriggerName,
			Profile:           task.Profile,
			CreatedUnixMillis: a.CreatedAt.UnixMilli(),
			ExpiresUnixMillis: a.ExpiresAt.UnixMilli(),
		}}})
		if err != nil {
			return err
		}
		sent[a.ID] = true
		if a.State == store.StatePending {
			if _, err := s.tasks.Transition(ctx, a.ID, store.StateAssigned, tasks.Update{}); err != nil {
				s.log.Error("mark assignment assigned failed", "assignment_id", a.ID, "error", err)
			}
		}
	}
	return nil
}

func (s *Server) handleMessage(ctx context.Context, rid string, msg *pb.ResponderMessage) {
	switch m := msg.Msg.(type) {
	case *pb.ResponderMessage_Heartbeat:
		// Receiving it is the point; last-seen is updated by the caller.
	case *pb.ResponderMessage_Progress:
		s.handleProgress(ctx, rid, m.Progress)
	case *pb.ResponderMessage_Result:
		s.handleResult(ctx, rid, m.Result)
	case *pb.ResponderMessage_Hello:
		s.log.Warn("ignoring repeated hello", "responder_id", rid)
	}
}

func (s *Server) handleProgress(ctx context.Context, rid string, p *pb.Progress) {
	if !s.ownedBy(ctx, p.GetAssignmentId(), rid) {
		return
	}
	var to store.State
	switch p.GetState() {
	case pb.AssignmentState_ASSIGNMENT_STATE_RUNNING:
		to = store.StateRunning
	case pb.AssignmentState_ASSIGNMENT_STATE_UPLOADING:
		to = store.StateUploading
	default:
		s.log.Warn("ignoring progress with a state responders do not report", "responder_id", rid, "assignment_id", p.GetAssignmentId(), "state", p.GetState().String())
		return
	}
	_, err := s.tasks.Transition(ctx, p.GetAssignmentId(), to, tasks.Update{FilesDone: p.GetFilesDone(), BytesRead: p.GetBytesRead()})
	if err != nil && !errors.Is(err, tasks.ErrInvalidTransition) {
		s.log.Error("record progress failed", "responder_id", rid, "assignment_id", p.GetAssignmentId(), "error", err)
	}
}

func (s *Server) handleResult(ctx context.Context, rid string, r *pb.AssignmentResult) {
	if !s.ownedBy(ctx, r.GetAssignmentId(), rid) {
		return
	}
	to, reason := store.StateFailed, r.GetError()
	if r.GetCancelled() {
		to = store.StateCancelled
		if reason == "" {
			reason = "cancelled on the responder"
		}
	}
	if reason == "" {
		reason = "responder reported failure without a reason"
	}
	_, err := s.tasks.Transition(ctx, r.GetAssignmentId(), to, tasks.Update{Error: reason})
	if err != nil && !errors.Is(err, tasks.ErrInvalidTransition) {
		s.log.Error("record assignment result failed", "responder_id", rid, "assignment_id", r.GetAssignmentId(), "error", err)
	}
}

// ownedBy reports whether the assignment exists and belongs to rid, so one
// responder can never change another's assignment.
func (s *Server) ownedBy(ctx context.Context, assignmentID, rid string) bool {
	a, err := s.store.GetAssignment(ctx, assignmentID)
	if err != nil {
		s.log.Warn("message for unknown assignment", "responder_id", rid, "assignment_id", assignmentID, "error", err)
		return false
	}
	if a.ResponderID != rid {
		s.log.Warn("message for another responder's assignment", "responder_id", rid, "assignment_id", assignmentID, "owner_id", a.ResponderID)
		return false
	}
	return true
}
