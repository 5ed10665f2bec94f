module github.com/mediaseal/mediaseal/bench/peers/sealpeer

go 1.26.8

require (
	filippo.io/age v1.3.2
	github.com/mediaseal/mediaseal v0.0.0
	github.com/tink-crypto/tink-go/v2 v2.9.0
)

require (
	filippo.io/hpke v0.4.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/mediaseal/mediaseal => ../../..
