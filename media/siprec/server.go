package siprec

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/media"
)

// Listen is one SIP listener.
type Listen struct {
	Transport string // udp, tcp or tls
	Addr      string // HOST:PORT (port 0: any free port)
}

// Mapping says where in the metadata the call attributes are (see
// [Metadata.Lookup]); ParticipantRole is relative to each participant.
type Mapping struct {
	QueueID, Direction, CallID, ParticipantRole string
}

// Config configures a [Server].
type Config struct {
	Listen []Listen
	TLS    *tls.Config // for tls listeners
	// AllowFrom admits only these source prefixes; empty admits any.
	AllowFrom []netip.Prefix
	// Realm and Users enable digest authentication of dialog-creating
	// INVITEs when Users is not empty (username -> password).
	Realm   string
	Users   map[string]string
	Mapping Mapping
	// AdvertiseAddr is the connection address of SDP answers (the media
	// manager's advertised address).
	AdvertiseAddr netip.Addr
	Logger        *zap.Logger
	// SDESOverPlainSIP accepts SDES-SRTP offers that arrive over UDP or
	// TCP. Off (the default), SDES keys are taken only from INVITEs sent
	// over TLS: in plain SIP anyone on the path reads the key with the
	// offer and can decrypt the media.
	SDESOverPlainSIP bool
}

// Server is a SIPREC Session Recording Server.
type Server struct {
	cfg      Config
	m        *media.Manager
	log      *zap.SugaredLogger
	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	nonceKey [32]byte

	udp     []net.PacketConn
	streams []streamListener
	contact map[string]string // transport -> host:port for Contact

	mu      sync.Mutex
	calls   map[string]*call // by Call-ID
	stopped bool             // Run is waiting for the calls it ended
	bg      sync.WaitGroup   // sessions being ended after BYE/CANCEL

	// testHookAnswer, when set, runs before a new recording session is
	// answered (tests use it to race a CANCEL).
	testHookAnswer func()
}

type streamListener struct {
	tls bool
	ln  net.Listener
}

// New opens the listeners; Run serves them.
func New(cfg Config, m *media.Manager) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Realm == "" {
		cfg.Realm = "mediaseal"
	}
	s := &Server{cfg: cfg, m: m, log: cfg.Logger.Sugar().With("component", "siprec"), calls: map[string]*call{},
		contact: map[string]string{}}
	if _, err := rand.Read(s.nonceKey[:]); err != nil {
		return nil, err
	}
	// sipgo logs through slog; only its errors are of interest.
	slogger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("mediaseal-srs"))
	if err != nil {
		return nil, err
	}
	s.ua = ua
	if s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(slogger)); err != nil {
		ua.Close()
		return nil, err
	}
	if err := s.listen(); err != nil {
		s.closeListeners()
		ua.Close()
		return nil, err
	}
	s.srv.OnInvite(s.wellFormed(s.onInvite))
	s.srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	s.srv.OnBye(s.wellFormed(s.onBye))
	s.srv.OnCancel(s.wellFormed(s.onCancel))
	s.srv.OnOptions(s.wellFormed(s.onOptions))
	s.srv.OnUpdate(s.wellFormed(s.onUpdate))
	s.srv.OnNoRoute(s.wellFormed(s.onNoRoute))
	return s, nil
}

func (s *Server) listen() error {
	for _, l := range s.cfg.Listen {
		switch l.Transport {
		case "udp":
			c, err := net.ListenPacket("udp", l.Addr)
			if err != nil {
				return fmt.Errorf("siprec: listen udp %s: %w", l.Addr, err)
			}
			s.udp = append(s.udp, c)
			s.contact["UDP"] = s.contactAddr(c.LocalAddr())
		case "tcp", "tls":
			ln, err := net.Listen("tcp", l.Addr)
			if err != nil {
				return fmt.Errorf("siprec: listen %s %s: %w", l.Transport, l.Addr, err)
			}
			if l.Transport == "tls" {
				if s.cfg.TLS == nil {
					ln.Close()
					return errors.New("siprec: a tls listener needs a TLS config")
				}
				ln = tls.NewListener(ln, s.cfg.TLS)
			}
			s.streams = append(s.streams, streamListener{l.Transport == "tls", ln})
			s.contact[strings.ToUpper(l.Transport)] = s.contactAddr(ln.Addr())
		default:
			return fmt.Errorf("siprec: unknown transport %q", l.Transport)
		}
	}
	return nil
}

// contactAddr is the host:port peers reach a listener on: the listener's
// own address, or the advertised address when it listens on all.
func (s *Server) contactAddr(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return a.String()
	}
	host := ap.Addr()
	if host.IsUnspecified() && s.cfg.AdvertiseAddr.IsValid() {
		host = s.cfg.AdvertiseAddr
	}
	return netip.AddrPortFrom(host.Unmap(), ap.Port()).String()
}

// Addr returns the address of the listener for transport (udp, tcp, tls).
func (s *Server) Addr(transport string) string { return s.contact[strings.ToUpper(transport)] }

func (s *Server) closeListeners() {
	for _, c := range s.udp {
		c.Close()
	}
	for _, l := range s.streams {
		l.ln.Close()
	}
}

// Run serves until ctx is done, then closes the listeners, ends the
// recording sessions it opened and waits for them.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, len(s.udp)+len(s.streams))
	for _, c := range s.udp {
		go func() { errc <- s.srv.ServeUDP(c) }()
	}
	for _, l := range s.streams {
		go func() {
			if l.tls {
				errc <- s.srv.ServeTLS(l.ln)
			} else {
				errc <- s.srv.ServeTCP(l.ln)
			}
		}()
	}
	s.log.Infow("SIPREC recording server listening", "udp", s.contact["UDP"], "tcp", s.contact["TCP"], "tls", s.contact["TLS"])
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("siprec: listener stopped: %w", err)
	}
	s.closeListeners()
	s.mu.Lock()
	calls := s.calls
	s.calls = map[string]*call{}
	s.mu.Unlock()
	for _, c := range calls {
		s.endCall(c, "siprec-shutdown")
	}
	// From here a request still being handled ends its call itself, so
	// no endCall adds to bg while it is waited for.
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.bg.Wait()
	s.ua.Close()
	return err
}

// endCall ends the media session of a call in the background (the end of
// a recording waits for its final chunk to be durable).
func (s *Server) endCall(c *call, reason string) {
	if c.sess == nil {
		return
	}
	id := c.sess.ID
	end := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := s.m.End(ctx, id, reason); err != nil && !errors.Is(err, media.ErrNotFound) {
			s.log.Warnw("ending SIPREC session", "session", id, "error", err)
		}
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		end()
		return
	}
	s.bg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.bg.Done()
		end()
	}()
}

// sdesAllowed reports whether SDES keys in req's offer may be used: it
// came over TLS, or plain SIP is allowed to carry them.
func (s *Server) sdesAllowed(req *sip.Request) bool {
	return s.cfg.SDESOverPlainSIP || strings.EqualFold(req.Transport(), "TLS")
}
