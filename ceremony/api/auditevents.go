package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

type auditEventJSON struct {
	Seq      int64           `json:"seq"`
	ID       string          `json:"id"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Target   string          `json:"target"`
	Outcome  string          `json:"outcome"`
	Details  json.RawMessage `json:"details"`
	PrevHash string          `json:"prevHash"`
	Hash     string          `json:"hash"`
}

var auditParams = map[string]bool{"actor": true, "action": true, "target": true, "outcome": true,
	"from": true, "to": true, "after": true, "limit": true}

// listAuditEvents pages through the audit log in sequence order, filtered
// by actor, action, target, outcome and time; nextAfter is the seq to pass
// as after for the next page.
func (s *server) listAuditEvents(w http.ResponseWriter, r *http.Request) error {
	log := s.deps.Ceremony.Audit
	if log == nil {
		return errorf(http.StatusNotFound, CodeNotFound, "the audit log is not enabled on this gateway")
	}
	v := r.URL.Query()
	if err := checkParams(v, auditParams); err != nil {
		return err
	}
	f := store.AuditFilter{Actor: v.Get("actor"), Action: v.Get("action"), Target: v.Get("target"), Outcome: v.Get("outcome"), Limit: DefaultPageSize}
	var err error
	if f.Limit, err = limitParam(v.Get("limit"), f.Limit); err != nil {
		return err
	}
	if a := v.Get("after"); a != "" {
		if f.AfterSeq, err = strconv.ParseInt(a, 10, 64); err != nil || f.AfterSeq < 0 {
			return fieldError("after", "must be a sequence number (got %q)", a)
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if s := v.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return fieldError(p.name, "must be an RFC 3339 time (got %q)", s)
			}
			*p.dst = t
		}
	}
	list, err := log.List(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]auditEventJSON, 0, len(list))
	for _, e := range list {
		out = append(out, auditEventJSON{e.Seq, e.ID, e.At, e.Actor, e.Action, e.Target, e.Outcome, json.RawMessage(e.Details), e.PrevHash, e.Hash})
	}
	resp := map[string]any{"entities": out}
	if len(list) == f.Limit {
		resp["nextAfter"] = list[len(list)-1].Seq
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
