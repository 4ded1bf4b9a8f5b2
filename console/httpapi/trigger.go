package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/magpie-ir/magpie/console/apitypes"
	"github.com/magpie-ir/magpie/console/auth"
	"github.com/magpie-ir/magpie/console/resolve"
	"github.com/magpie-ir/magpie/console/tasks"
)

// ParserURL names the trigger parser that reads endpoints from the URL path.
const ParserURL = "URL"

// trigger handles GET /api/trigger/{name}/{endpoints}?token=TOKEN.
func (h *Handler) trigger(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("name")
	log := h.log.With("trigger", name, "remote", r.RemoteAddr)

	trig, err := h.cfg.Store.GetTrigger(ctx, name)
	if err != nil {
		log.Warn("trigger call rejected", "reason", "unknown trigger")
		h.audit(ctx, "remote:"+r.RemoteAddr, "trigger.reject", name, "unknown trigger")
		writeTriggerError(w, http.StatusNotFound, apitypes.TriggerError{Message: fmt.Sprintf("trigger %q not found", name)})
		return
	}
	token := r.URL.Query().Get("token")
	if token == "" || !auth.Equal(trig.TokenHash, token) {
		log.Warn("trigger call rejected", "reason", "wrong or missing token")
		h.audit(ctx, "remote:"+r.RemoteAddr, "trigger.reject", name, "wrong or missing token")
		writeTriggerError(w, http.StatusUnauthorized, apitypes.TriggerError{Message: "invalid trigger token: use the token printed by 'magpie triggers create' or the latest 'magpie triggers rotate'"})
		return
	}

	endpoints := resolve.SplitEndpoints(r.PathValue("endpoints"))
	if len(endpoints) == 0 {
		writeTriggerError(w, http.StatusBadRequest, apitypes.TriggerError{Message: "no endpoint in the trigger URL: put a hostname, FQDN or IP, or a comma-separated list, after the trigger name"})
		return
	}

	responders, err := h.cfg.Store.ListResponders(ctx)
	if err != nil {
		log.Error("list responders failed", "error", err)
		writeTriggerError(w, http.StatusInternalServerError, apitypes.TriggerError{Message: "internal error, see the console log"})
		return
	}
	candidates := make([]resolve.Candidate, 0, len(responders))
	hostnames := make(map[string]string, len(responders))
	for _, rr := range responders {
		if !rr.RevokedAt.IsZero() {
			continue
		}
		candidates = append(candidates, resolve.Candidate{ID: rr.ID, Hostname: rr.Hostname, FQDN: rr.FQDN, IPs: rr.IPs})
		hostnames[rr.ID] = rr.Hostname
	}
	res := resolve.Resolve(endpoints, candidates)

	if len(res.Ambiguous) > 0 {
		terr := apitypes.TriggerError{NotFound: res.NotFound}
		var parts []string
		for _, a := range res.Ambiguous {
			var names []string
			for _, c := range a.Candidates {
				label := fmt.Sprintf("%s (%s)", c.Hostname, c.ID)
				if c.FQDN != "" {
					label = fmt.Sprintf("%s (%s)", c.FQDN, c.ID)
				}
				names = append(names, label)
				terr.Candidates = append(terr.Candidates, label)
			}
			parts = append(parts, fmt.Sprintf("%q matches %s", a.Endpoint, strings.Join(names, ", ")))
		}
		terr.Message = "ambiguous endpoint, nothing collected: " + strings.Join(parts, "; ") + ". Call the trigger with the FQDN, or an address that only one responder has"
		log.Warn("trigger call rejected", "reason", "ambiguous endpoint", "endpoints", endpoints)
		h.audit(ctx, "remote:"+r.RemoteAddr, "trigger.reject", trig.Name, "ambiguous: "+strings.Join(parts, "; "))
		writeTriggerError(w, http.StatusConflict, terr)
		return
	}
	if len(res.Matches) == 0 {
		log.Warn("trigger call rejected", "reason", "no endpoint matched", "not_found", res.NotFound)
		h.audit(ctx, "remote:"+r.RemoteAddr, "trigger.reject", trig.Name, "no responder matches "+strings.Join(quoteAll(res.NotFound), ", "))
		msg := "no responder matches " + strings.Join(quoteAll(res.NotFound), ", ") + ": check 'magpie responders list'"
		if slices.ContainsFunc(res.NotFound, resolve.NeverMatches) {
			msg += "; loopback and link-local addresses never match, because every machine has them"
		}
		writeTriggerError(w, http.StatusNotFound, apitypes.TriggerError{Message: msg, NotFound: res.NotFound})
		return
	}

	ids := res.ResponderIDs()
	task, _, err := h.cfg.Tasks.Create(ctx, tasks.CreateRequest{
		TriggerName:  trig.Name,
		Profile:      trig.Profile,
		Requester:    "trigger:" + trig.Name,
		Endpoints:    endpoints,
		ResponderIDs: ids,
	})
	if err != nil {
		log.Error("create task failed", "error", err)
		writeTriggerError(w, http.StatusInternalServerError, apitypes.TriggerError{Message: "internal error, see the console log"})
		return
	}

	matched := make([]string, 0, len(ids))
	for _, id := range ids {
		matched = append(matched, hostnames[id])
	}
	notFound := res.NotFound
	if notFound == nil {
		notFound = []string{}
	}
	log.Info("trigger call accepted", "task_id", task.ID, "responders", len(ids), "not_found", len(notFound))
	writeJSON(w, http.StatusOK, apitypes.TriggerReply{Success: true, Data: &apitypes.TriggerData{
		Parser:             trig.Parser,
		AcquisitionProfile: trig.Profile,
		Endpoints:          matched,
		TaskID:             task.ID,
		NotFound:           notFound,
	}})
}

func writeTriggerError(w http.ResponseWriter, status int, e apitypes.TriggerError) {
	writeJSON(w, status, apitypes.TriggerReply{Success: false, Error: &e})
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
