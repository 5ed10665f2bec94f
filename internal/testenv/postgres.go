package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the admin connection
)

// PostgresBinDir is where Debian's postgresql-15 package puts initdb and
// postgres; MEDIASEAL_PG_BINDIR overrides it.
const PostgresBinDir = "/usr/lib/postgresql/15/bin"

// postgresStartTimeout bounds how long the server may take to accept
// connections.
const postgresStartTimeout = 60 * time.Second

// cluster is the one PostgreSQL server of a test binary.
type cluster struct {
	dir   string
	port  int
	cmd   *exec.Cmd
	exit  chan error // receives the server's exit status
	admin *sql.DB
}

var (
	pgMainActive atomic.Bool
	pgOnce       sync.Once
	pgCluster    *cluster
	pgErr        error
	pgDBSeq      atomic.Int64
)

// PostgresMain runs the tests of a package and stops the shared PostgreSQL
// cluster afterwards if a test started it. Use it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.PostgresMain(m) }
func PostgresMain(m *testing.M) {
	pgMainActive.Store(true)
	code := m.Run()
	if pgCluster != nil {
		if err := pgCluster.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv: stopping postgres:", err)
		}
	}
	os.Exit(code)
}

// PostgresDSN returns the DSN of a fresh, empty database on the test
// binary's PostgreSQL 15 cluster and drops the database when the test ends
// (register stores that use it after this call, so they close first).
// The cluster is started on first use: initdb and postgres from the Debian
// packages (installed by scripts/install-postgres.sh when missing), run as
// the postgres user when the tests run as root, with its data and unix
// socket in a temporary directory, listening on 127.0.0.1 only.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	if !pgMainActive.Load() {
		t.Fatal("testenv: PostgresDSN needs TestMain to call testenv.PostgresMain(m), which stops the cluster")
	}
	pgOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(pgBinDir(), "initdb")); err != nil {
			runScript(t, "install-postgres.sh")
		}
		pgCluster, pgErr = startCluster()
	})
	if pgErr != nil {
		t.Fatalf("testenv: postgres: %v", pgErr)
	}
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), pgDBSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := pgCluster.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pgCluster.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	return pgCluster.dsn(name)
}

func pgBinDir() string {
	if d := os.Getenv("MEDIASEAL_PG_BINDIR"); d != "" {
		return d
	}
	return PostgresBinDir
}

func (c *cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// startCluster runs initdb and starts the server, retrying on another port
// if the free port it picked was taken meanwhile.
func startCluster() (*cluster, error) {
	dir, err := os.MkdirTemp("", "mediaseal-pg-")
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	c := &cluster{dir: dir}
	initdb := exec.Command(filepath.Join(pgBinDir(), "initdb"), "-D", filepath.Join(dir, "data"),
		"-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		err = c.start(cred)
		if err == nil {
			return c, nil
		}
		if attempt == 2 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

// postgresCredential returns the postgres user's credential when running
// as root (initdb and postgres refuse to run as root), nil otherwise.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres user (scripts/install-postgres.sh creates it): %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start launches postgres as a child that dies with the test binary
// (Pdeathsig), so a test binary killed by a timeout leaves no server behind.
func (c *cluster) start(cred *syscall.Credential) error {
	port, err := freeTCPPort()
	if err != nil {
		return err
	}
	c.port = port
	logPath := filepath.Join(c.dir, "postgres.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	c.cmd = exec.Command(filepath.Join(pgBinDir(), "postgres"), "-D", filepath.Join(c.dir, "data"),
		"-p", strconv.Itoa(port), "-k", c.dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=32MB", "-c", "max_connections=200", "-c", "logging_collector=off")
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	// Pdeathsig fires when the forking OS thread exits; keep this
	// goroutine on its thread while forking so the runtime does not retire
	// the thread under the server.
	runtime.LockOSThread()
	err = c.cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.exit = make(chan error, 1)
	go func() { c.exit <- c.cmd.Wait() }()

	c.admin, err = sql.Open("pgx", c.dsn("postgres"))
	if err != nil {
		return err
	}
	deadline := time.Now().Add(postgresStartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = c.admin.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-c.exit:
			c.admin.Close()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited (%v) on port %d:\n%s", werr, port, log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.admin.Close()
			c.cmd.Process.Kill()
			<-c.exit
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres did not accept connections within %v: %v\n%s", postgresStartTimeout, err, log)
		}
	}
}

// stop shuts the server down (fast mode: SIGINT) and removes its directory.
func (c *cluster) stop() error {
	c.admin.Close()
	var errs []error
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		errs = append(errs, err)
	}
	select {
	case <-c.exit:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.exit
		errs = append(errs, errors.New("postgres did not stop within 30s; killed"))
	}
	errs = append(errs, os.RemoveAll(c.dir))
	return errors.Join(errs...)
}
