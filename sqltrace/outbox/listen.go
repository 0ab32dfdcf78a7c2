package outbox

import (
	"context"
	"fmt"
	"time"
)

// listen keeps a LISTEN connection open and signals every wake channel for
// every
// notification about this schema's outbox. It runs until ctx ends; when the
// connection breaks it reconnects with backoff while the poll in Run keeps
// rows moving.
func (r *Relay) listen(ctx context.Context, schema string, wake []chan struct{}) {
	delay := r.cfg.backoffMin
	for {
		err := r.listenOnce(ctx, schema, wake)
		if ctx.Err() != nil {
			return
		}
		r.reports.Report(fmt.Errorf("outbox: relay: listen: %w", err))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, r.cfg.backoffMax)
	}
}

func (r *Relay) listenOnce(ctx context.Context, schema string, wake []chan struct{}) error {
	pc, err := r.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection leaves the pool for good: a connection that has
	// LISTENed must not be handed to other users.
	conn := pc.Hijack()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		_ = conn.Close(cctx)
		cancel()
	}()
	if _, err := conn.Exec(ctx, "LISTEN outbox"); err != nil {
		return err
	}
	signal(wake) // rows committed before LISTEN took effect
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload == schema {
			signal(wake)
		}
	}
}

func signal(wake []chan struct{}) {
	for _, c := range wake {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}
