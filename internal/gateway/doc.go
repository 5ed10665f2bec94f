// Package gateway assembles mediaseal from a config: [New] opens the
// adapters (internal/adapters) and builds the services — playback, the
// ceremony's control plane; [Gateway.Run] builds the recording life
// cycle, the DEK broker and the media manager, joins the cluster, starts
// each service in order and stops them in the reverse order;
// its handler mounts their routes. It translates the config into
// each service's plain values and holds no logic of its own.
// cmd/mediaseal only parses flags and calls [New] and [Gateway.Run].
package gateway
