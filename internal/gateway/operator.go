package gateway

import (
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// ControlPlane is the control plane of the ceremony (operator tools, tests).
func (g *Gateway) ControlPlane() *controlplane.Service { return g.cp }

// Store returns the control-plane store (operator tools).
func (g *Gateway) Store() *store.SQL { return g.index }
