package shop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// LocalURL is the server tried when DATABASE_URL is not set.
const LocalURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ErrNoPostgres is returned by [FindPostgres] when no server can be had.
var ErrNoPostgres = errors.New("no PostgreSQL: set DATABASE_URL, start a server on 127.0.0.1:5432 " +
	"(e.g. docker compose -f examples/checkout/deploy/docker-compose.yml up postgres), " +
	"or install the PostgreSQL server binaries (apt-get install postgresql)")

// Postgres is a server the example can use. Close stops and removes a
// throwaway cluster; it does nothing for a server found running.
type Postgres struct {
	URL    string
	Origin string // "DATABASE_URL", "127.0.0.1:5432" or "throwaway cluster in <dir>"
	stop   func() error
}

// Close stops a throwaway cluster and removes its directory.
func (p *Postgres) Close() error {
	if p.stop == nil {
		return nil
	}
	return p.stop()
}

// FindPostgres returns, in this order: the server named by DATABASE_URL, a
// server answering on 127.0.0.1:5432, or a throwaway cluster started from the
// PostgreSQL binaries installed under /usr/lib/postgresql (initdb into a
// temporary directory, a random port, removed by Close). PostgreSQL refuses
// to run as root, so when the program runs as root the cluster runs as the
// unprivileged user nobody.
func FindPostgres(ctx context.Context) (*Postgres, error) {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		if err := ping(ctx, u, 5*time.Second); err != nil {
			return nil, fmt.Errorf("DATABASE_URL does not answer: %w", err)
		}
		return &Postgres{URL: u, Origin: "DATABASE_URL"}, nil
	}
	if ping(ctx, LocalURL, 2*time.Second) == nil {
		return &Postgres{URL: LocalURL, Origin: "127.0.0.1:5432"}, nil
	}
	return StartThrowaway(ctx)
}

func ping(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// postgresBin returns the bin directory of the newest PostgreSQL installed
// under /usr/lib/postgresql, or the directory of initdb on PATH.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) < pgVersion(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNoPostgres
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// StartThrowaway starts a PostgreSQL cluster in a temporary directory on a
// random port and returns it; Close stops it and removes the directory.
func StartThrowaway(ctx context.Context) (*Postgres, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "checkout-pg-")
	if err != nil {
		return nil, err
	}
	cred, err := unprivileged(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := command(ctx, cred, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	srv := command(context.Background(), cred, filepath.Join(bin, "postgres"), "-D", data,
		"-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")
	logf, _ := os.Create(filepath.Join(dir, "postgres.log"))
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	stop := func() error {
		_ = srv.Process.Signal(syscall.SIGINT) // fast shutdown
		done := make(chan error, 1)
		go func() { done <- srv.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = srv.Process.Kill()
			<-done
		}
		if logf != nil {
			logf.Close()
		}
		return os.RemoveAll(dir)
	}
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err = ping(ctx, url, time.Second); err == nil {
			return &Postgres{URL: url, Origin: "throwaway cluster in " + dir, stop: stop}, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			_ = stop()
			return nil, fmt.Errorf("throwaway postgres does not answer: %w: %s", err, strings.TrimSpace(string(log)))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
