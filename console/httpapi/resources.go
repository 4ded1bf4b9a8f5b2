package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/magpie-ir/magpie/console/apitypes"
	"github.com/magpie-ir/magpie/console/auth"
	"github.com/magpie-ir/magpie/console/repository"
	"github.com/magpie-ir/magpie/console/rpcserver"
	"github.com/magpie-ir/magpie/console/store"
	"github.com/magpie-ir/magpie/console/tasks"
)

var triggerNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (h *Handler) createEnrollToken(w http.ResponseWriter, r *http.Request) {
	var req apitypes.CreateEnrollTokenRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ttl := DefaultEnrollTokenTTL
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid ttl %q: use a positive Go duration such as 24h or 30m", req.TTL))
			return
		}
		ttl = d
	}

	tok := auth.NewToken(rpcserver.EnrollTokenPrefix)
	now := h.now().UTC()
	et := store.EnrollToken{
		ID:         tok.ID,
		SecretHash: auth.Hash(tok.Secret),
		SingleUse:  req.SingleUse,
		CreatedAt:  now,
		ExpiresAt:  now.Add(ttl),
		CreatedBy:  actor(r.Context()),
	}
	if err := h.cfg.Store.CreateEnrollToken(r.Context(), et); err != nil {
		h.log.Error("create enrollment token failed", "error", err)
		writeStoreError(w, "enrollment token", err)
		return
	}
	h.audit(r.Context(), actor(r.Context()), "enroll-token.create", tok.ID, fmt.Sprintf("ttl=%s single_use=%t", ttl, req.SingleUse))
	writeJSON(w, http.StatusCreated, apitypes.EnrollToken{Token: tok.String(), ExpiresAt: et.ExpiresAt, SingleUse: et.SingleUse})
}

func (h *Handler) listResponders(w http.ResponseWriter, r *http.Request) {
	responders, err := h.cfg.Store.ListResponders(r.Context())
	if err != nil {
		h.log.Error("list responders failed", "error", err)
		writeStoreError(w, "responders", err)
		return
	}
	out := apitypes.ResponderList{Responders: []apitypes.Responder{}}
	for _, rr := range responders {
		out.Responders = append(out.Responders, apitypes.Responder{
			ID:        rr.ID,
			Hostname:  rr.Hostname,
			FQDN:      rr.FQDN,
			IPs:       nonNil(rr.IPs),
			MACs:      nonNil(rr.MACs),
			OS:        rr.OS,
			Arch:      rr.Arch,
			OSVersion: rr.OSVersion,
			Version:   rr.Version,
			FirstSeen: rr.FirstSeen,
			LastSeen:  rr.LastSeen,
			Online:    h.cfg.Hub.Online(rr.ID),
			RevokedAt: rr.RevokedAt,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) revokeResponder(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	cancelled, err := h.cfg.Tasks.RevokeResponder(r.Context(), id, actor(r.Context()))
	switch {
	case errors.Is(err, tasks.ErrAlreadyRevoked):
		writeError(w, http.StatusConflict, err.Error())
		return
	case err != nil:
		if !errors.Is(err, store.ErrNotFound) {
			h.log.Error("revoke responder failed", "responder_id", id, "error", err)
		}
		writeStoreError(w, fmt.Sprintf("responder %q", id), err)
		return
	}
	writeJSON(w, http.StatusOK, apitypes.RevokeResult{ResponderID: id, CancelledAssignments: cancelled})
}

func (h *Handler) createTrigger(w http.ResponseWriter, r *http.Request) {
	var req apitypes.CreateTriggerRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !triggerNamePattern.MatchString(req.Name) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid trigger name %q: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", req.Name))
		return
	}
	prof, err := h.cfg.Profiles.Get(req.Profile)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}

	token := auth.NewSecret()
	t := store.Trigger{
		Name:      req.Name,
		Profile:   prof.Name,
		Parser:    ParserURL,
		TokenHash: auth.Hash(token),
		CreatedAt: h.now().UTC(),
		CreatedBy: actor(r.Context()),
	}
	if err := h.cfg.Store.CreateTrigger(r.Context(), t); err != nil {
		writeStoreError(w, fmt.Sprintf("trigger %q", req.Name), err)
		return
	}
	h.audit(r.Context(), actor(r.Context()), "trigger.create", t.Name, "profile="+t.Profile)
	writeJSON(w, http.StatusCreated, h.triggerWithToken(t, token))
}

func (h *Handler) listTriggers(w http.ResponseWriter, r *http.Request) {
	triggers, err := h.cfg.Store.ListTriggers(r.Context())
	if err != nil {
		writeStoreError(w, "triggers", err)
		return
	}
	out := apitypes.TriggerList{Triggers: []apitypes.Trigger{}}
	for _, t := range triggers {
		out.Triggers = append(out.Triggers, toAPITrigger(t))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) rotateTrigger(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	token := auth.NewSecret()
	now := h.now().UTC()
	if err := h.cfg.Store.RotateTriggerToken(r.Context(), name, auth.Hash(token), now); err != nil {
		writeStoreError(w, fmt.Sprintf("trigger %q", name), err)
		return
	}
	t, err := h.cfg.Store.GetTrigger(r.Context(), name)
	if err != nil {
		writeStoreError(w, fmt.Sprintf("trigger %q", name), err)
		return
	}
	h.audit(r.Context(), actor(r.Context()), "trigger.rotate", name, "")
	writeJSON(w, http.StatusOK, h.triggerWithToken(t, token))
}

func (h *Handler) triggerWithToken(t store.Trigger, token string) apitypes.TriggerWithToken {
	u := fmt.Sprintf("%s/api/trigger/%s/{endpoint}?token=%s", h.cfg.PublicURL, url.PathEscape(t.Name), url.QueryEscape(token))
	return apitypes.TriggerWithToken{Trigger: toAPITrigger(t), Token: token, URL: u}
}

func toAPITrigger(t store.Trigger) apitypes.Trigger {
	return apitypes.Trigger{Name: t.Name, Profile: t.Profile, Parser: t.Parser, CreatedAt: t.CreatedAt, RotatedAt: t.RotatedAt}
}

func (h *Handler) listTasks(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r, 50)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list, err := h.cfg.Store.ListTasks(r.Context(), limit)
	if err != nil {
		writeStoreError(w, "tasks", err)
		return
	}
	names := h.hostnames(r)
	out := apitypes.TaskList{Tasks: []apitypes.Task{}}
	for _, t := range list {
		at, err := h.apiTask(r, t, names)
		if err != nil {
			writeStoreError(w, "task "+t.ID, err)
			return
		}
		out.Tasks = append(out.Tasks, at)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getTask(w http.ResponseWriter, r *http.Request) {
	h.writeTask(w, r, r.PathValue("id"))
}

// writeTask replies with the task and its assignments.
func (h *Handler) writeTask(w http.ResponseWriter, r *http.Request, id string) {
	t, err := h.cfg.Store.GetTask(r.Context(), id)
	if err != nil {
		writeStoreError(w, fmt.Sprintf("task %q", id), err)
		return
	}
	at, err := h.apiTask(r, t, h.hostnames(r))
	if err != nil {
		writeStoreError(w, fmt.Sprintf("task %q", id), err)
		return
	}
	writeJSON(w, http.StatusOK, at)
}

func (h *Handler) cancelTask(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := h.cfg.Store.GetTask(r.Context(), id); err != nil {
		writeStoreError(w, fmt.Sprintf("task %q", id), err)
		return
	}

	err := h.cfg.Tasks.Cancel(r.Context(), id, actor(r.Context()))
	if errors.Is(err, tasks.ErrNothingToCancel) {
		writeError(w, http.StatusConflict, fmt.Sprintf("task %q has no open assignments to cancel: every assignment already ended", id))
		return
	}
	if err != nil {
		h.log.Error("cancel task failed", "task_id", id, "error", err)
		writeStoreError(w, fmt.Sprintf("task %q", id), err)
		return
	}
	h.writeTask(w, r, id)
}

func (h *Handler) downloadEvidence(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, err := h.cfg.Store.GetAssignment(r.Context(), id)
	if err != nil {
		writeStoreError(w, fmt.Sprintf("assignment %q", id), err)
		return
	}
	if a.State.Terminal() && a.State != store.StateCompleted {
		writeError(w, http.StatusNotFound, fmt.Sprintf("assignment %q ended without evidence (state %s: %s)", id, a.State, a.Error))
		return
	}
	if a.State != store.StateCompleted || a.EvidencePath == "" {
		writeError(w, http.StatusNotFound, fmt.Sprintf("assignment %q has no evidence yet (state %s): wait with 'magpie tasks wait %s'", id, a.State, a.TaskID))
		return
	}
	f, size, err := h.cfg.Repository.Open(a.EvidencePath)
	if err != nil {
		h.log.Error("open evidence failed", "assignment_id", id, "error", err)
		if errors.Is(err, repository.ErrNotFound) {
			writeError(w, http.StatusGone, fmt.Sprintf("evidence of assignment %q is recorded but missing from the repository", id))
			return
		}
		writeError(w, http.StatusInternalServerError, "open evidence: internal error, see the console log")
		return
	}
	defer f.Close()

	h.audit(r.Context(), actor(r.Context()), "evidence.download", id, "sha256="+a.EvidenceSHA256)
	w.Header().Set("Content-Type", "application/zstd")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set(apitypes.SHA256Header, a.EvidenceSHA256)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", a.ID+".tar.zst"))
	if _, err := io.Copy(w, f); err != nil {
		h.log.Warn("evidence download interrupted", "assignment_id", id, "error", err)
	}
}

func (h *Handler) listAudit(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r, 100)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	events, err := h.cfg.Store.ListAudit(r.Context(), limit)
	if err != nil {
		writeStoreError(w, "audit events", err)
		return
	}
	out := apitypes.AuditList{Events: []apitypes.AuditEvent{}}
	for _, e := range events {
		out.Events = append(out.Events, apitypes.AuditEvent{ID: e.ID, Time: e.Time, Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail})
	}
	writeJSON(w, http.StatusOK, out)
}

// hostnames maps responder IDs to hostnames for task replies.
func (h *Handler) hostnames(r *http.Request) map[string]string {
	names := make(map[string]string)
	responders, err := h.cfg.Store.ListResponders(r.Context())
	if err != nil {
		h.log.Error("list responders failed", "error", err)
		return names
	}
	for _, rr := range responders {
		names[rr.ID] = rr.Hostname
	}
	return names
}

func (h *Handler) apiTask(r *http.Request, t store.Task, hostnames map[string]string) (apitypes.Task, error) {
	as, err := h.cfg.Store.ListAssignments(r.Context(), t.ID)
	if err != nil {
		return apitypes.Task{}, err
	}
	out := apitypes.Task{
		ID:          t.ID,
		Trigger:     t.TriggerName,
		Profile:     t.Profile,
		Requester:   t.Requester,
		Endpoints:   nonNil(t.Endpoints),
		CreatedAt:   t.CreatedAt,
		ExpiresAt:   t.ExpiresAt,
		Assignments: []apitypes.Assignment{},
	}
	completed, cancelled, terminal := 0, 0, 0
	for _, a := range as {
		aa := apitypes.Assignment{
			ID:          a.ID,
			ResponderID: a.ResponderID,
			Hostname:    hostnames[a.ResponderID],
			State:       string(a.State),
			Error:       a.Error,
			FilesDone:   a.FilesDone,
			BytesRead:   a.BytesRead,
			CreatedAt:   a.CreatedAt,
			UpdatedAt:   a.UpdatedAt,
			StartedAt:   a.StartedAt,
			FinishedAt:  a.FinishedAt,
		}
		if a.State == store.StateCompleted {
			aa.Evidence = &apitypes.Evidence{SHA256: a.EvidenceSHA256, Size: a.EvidenceSize}
			completed++
		}
		if a.State == store.StateCancelled {
			cancelled++
		}
		if a.State.Terminal() {
			terminal++
		}
		out.Assignments = append(out.Assignments, aa)
	}
	switch {
	case len(as) > 0 && completed == len(as):
		out.State = apitypes.TaskCompleted
	case len(as) > 0 && cancelled == len(as):
		out.State = apitypes.TaskCancelled
	case len(as) > 0 && terminal == len(as):
		out.State = apitypes.TaskFailed
	default:
		out.State = apitypes.TaskOpen
	}
	return out, nil
}

func limitParam(r *http.Request, def int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 10000 {
		return 0, fmt.Errorf("invalid limit %q: use a number from 1 to 10000", s)
	}
	return n, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
