package gateway

import "github.com/mediaseal/mediaseal/internal/httpx"

// errorBody is the body of every error response of the gateway's
// endpoints, the session API and WHIP included.
type errorBody = httpx.Error
