package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/events"
)

// Webhook subscriptions of lifecycle events (ceremony/events). They are
// gated by the recording-policy scopes: a subscription decides where
// recording metadata (and, with seeCaller, caller numbers) leaves the
// system, the same authority as a policy deciding what is recorded. Those
// are service-account (ceremony) scopes held by policy_admin and, for
// reading, the auditor, and they conflict with key_management:write, so
// the key holder cannot also open a channel out. Every change is audited.

func (s *server) eventRoutes() []Route {
	return []Route{
		{"POST", "/api/v2/events/subscriptions", ScopePolicyWrite, s.createSubscription},
		{"GET", "/api/v2/events/subscriptions", ScopePolicyRead, s.listSubscriptions},
		{"GET", "/api/v2/events/subscriptions/{id}", ScopePolicyRead, s.getSubscription},
		{"PUT", "/api/v2/events/subscriptions/{id}", ScopePolicyWrite, s.updateSubscription},
		{"DELETE", "/api/v2/events/subscriptions/{id}", ScopePolicyWrite, s.deleteSubscription},
		{"POST", "/api/v2/events/subscriptions/{id}/rotate", ScopePolicyWrite, s.rotateSubscriptionSecret},
		{"POST", "/api/v2/events/subscriptions/{id}/rotate/end", ScopePolicyWrite, s.endSubscriptionRotation},
		{"GET", "/api/v2/events/subscriptions/{id}/deadletters", ScopePolicyRead, s.listDeadLetters},
		{"POST", "/api/v2/events/subscriptions/{id}/replay", ScopePolicyWrite, s.replayEvents},
	}
}

// subscriptionBody is what a create or update sends.
type subscriptionBody struct {
	URL         string   `json:"url"`
	Types       []string `json:"types"`
	SeeCaller   bool     `json:"seeCaller"`
	State       string   `json:"state"`
	Description string   `json:"description"`
}

func (s *server) outbox() (*events.Outbox, error) {
	if s.deps.Events == nil {
		return nil, errorf(http.StatusNotFound, CodeNotFound, "lifecycle events are not enabled on this gateway")
	}
	return s.deps.Events, nil
}

// eventsError maps the outbox's errors to the API's.
func eventsError(err error) error {
	switch {
	case errors.Is(err, events.ErrInvalid):
		return errorf(http.StatusBadRequest, CodeInvalidField, "%v", err)
	case errors.Is(err, events.ErrNotFound):
		return errorf(http.StatusNotFound, CodeNotFound, "%v", err)
	}
	return err
}

func (s *server) createSubscription(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	var b subscriptionBody
	if err := s.decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	p, _ := PrincipalFrom(r.Context())
	sub, err := o.CreateSubscription(r.Context(), events.Subscription{URL: b.URL, Types: b.Types, SeeCaller: b.SeeCaller,
		State: b.State, Description: b.Description, CreatedBy: p.ID})
	if err != nil {
		return eventsError(err)
	}
	s.audit(r, "event subscription created", zap.String("subscription", sub.ID), zap.String("url", sub.URL),
		zap.Strings("types", sub.Types), zap.Bool("seeCaller", sub.SeeCaller))
	w.Header().Set("Location", "/api/v2/events/subscriptions/"+sub.ID)
	writeJSON(w, http.StatusCreated, sub)
	return nil
}

func (s *server) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	list, err := o.ListSubscriptions(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []events.Subscription{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entities": list, "total": len(list)})
	return nil
}

func (s *server) getSubscription(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	sub, err := o.GetSubscription(r.Context(), r.PathValue("id"))
	if err != nil {
		return eventsError(err)
	}
	writeJSON(w, http.StatusOK, sub)
	return nil
}

func (s *server) updateSubscription(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	var b subscriptionBody
	if err := s.decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if b.State == "" {
		b.State = events.SubscriptionActive
	}
	sub, err := o.UpdateSubscription(r.Context(), events.Subscription{ID: r.PathValue("id"), URL: b.URL, Types: b.Types,
		SeeCaller: b.SeeCaller, State: b.State, Description: b.Description})
	if err != nil {
		return eventsError(err)
	}
	s.audit(r, "event subscription changed", zap.String("subscription", sub.ID), zap.String("url", sub.URL),
		zap.Strings("types", sub.Types), zap.Bool("seeCaller", sub.SeeCaller), zap.String("state", sub.State))
	writeJSON(w, http.StatusOK, sub)
	return nil
}

func (s *server) deleteSubscription(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := o.DeleteSubscription(r.Context(), id); err != nil {
		return eventsError(err)
	}
	s.audit(r, "event subscription deleted", zap.String("subscription", id))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateSubscriptionSecret answers the new secret once; the old one keeps
// signing beside it until the rotation ends.
func (s *server) rotateSubscriptionSecret(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	sub, err := o.RotateSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return eventsError(err)
	}
	s.audit(r, "event subscription secret rotated", zap.String("subscription", sub.ID))
	writeJSON(w, http.StatusOK, sub)
	return nil
}

func (s *server) endSubscriptionRotation(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	sub, err := o.EndRotation(r.Context(), r.PathValue("id"))
	if err != nil {
		return eventsError(err)
	}
	s.audit(r, "event subscription rotation ended", zap.String("subscription", sub.ID))
	writeJSON(w, http.StatusOK, sub)
	return nil
}

func (s *server) listDeadLetters(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := o.GetSubscription(r.Context(), id); err != nil {
		return eventsError(err)
	}
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return fieldError("limit", "must be 1 to 1000")
		}
		limit = n
	}
	list, err := o.ListDeliveries(r.Context(), id, events.DeliveryDead, limit)
	if err != nil {
		return err
	}
	if list == nil {
		list = []events.Delivery{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entities": list, "total": len(list)})
	return nil
}

// replayBody is a time range [from, to) of events to send again.
type replayBody struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

func (s *server) replayEvents(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	var b replayBody
	if err := s.decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if b.From.IsZero() || b.To.IsZero() {
		return fieldError("from", "from and to are both required (RFC 3339)")
	}
	id := r.PathValue("id")
	n, err := o.Replay(r.Context(), id, b.From, b.To)
	if err != nil {
		return eventsError(err)
	}
	s.audit(r, "events replayed", zap.String("subscription", id), zap.Time("from", b.From), zap.Time("to", b.To),
		zap.Int64("scheduled", n))
	writeJSON(w, http.StatusAccepted, map[string]any{"scheduled": n})
	return nil
}
