// Package gatewaytest runs real gateways for the end-to-end tests in
// tests/...: one in this process ([Start]) or `mediaseal serve` as a child
// process ([NewGatewayProcess]), with the helpers those tests share to
// drive them (RTP senders, ceremony principals, local-kms and S3 setups,
// ffmpeg decoders). Every part is real (PostgreSQL, versitygw, local-kms,
// SoftHSM2 through internal/testenv); nothing here fakes the gateway.
package gatewaytest
