package bench

import "errors"

var (
	// ErrConfig means a run was asked with inconsistent options.
	ErrConfig = errors.New("bench: invalid options")
	// ErrGateway means the gateway under test refused or failed a request.
	ErrGateway = errors.New("bench: gateway error")
	// ErrVerify means the recorded media could not be verified.
	ErrVerify = errors.New("bench: verification failed")
	// ErrSpawn means the spawned gateway could not be started or stopped.
	ErrSpawn = errors.New("bench: spawned gateway")
	// ErrKMS means local-kms or the delaying proxy in front of it failed.
	ErrKMS = errors.New("bench: local-kms")
	// ErrPeer means the peer under comparison (rtpengine) failed.
	ErrPeer = errors.New("bench: peer")
)
