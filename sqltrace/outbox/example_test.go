package outbox_test

import (
	"context"
	"log"
	"os"
	"os/signal"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/otelkit/otelkit/kafkatrace"
	"github.com/otelkit/otelkit/sqltrace/outbox"
)

// The order service writes the order and its event in one transaction.
func ExampleEnqueue() {
	ctx := context.Background() // in a handler: the request's context
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	tx, err := pool.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO orders (id, amount) VALUES ($1, $2)`, "o-1", 42); err != nil {
		log.Fatal(err)
	}
	if err := outbox.Enqueue(ctx, tx, outbox.Message{
		Topic: "orders",
		Key:   []byte("o-1"), // events of one order are published in order
		Value: []byte(`{"type":"order.created","id":"o-1"}`),
	}); err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		log.Fatal(err)
	}
}

// The relay process: publish the rows under the traces that wrote them, and
// finish the batch in flight on SIGINT.
func ExampleRelay() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := outbox.Apply(ctx, pool); err != nil {
		log.Fatal(err)
	}
	client, err := kgo.NewClient(kgo.SeedBrokers(os.Getenv("KAFKA_BROKERS")), kgo.WithHooks(kafkatrace.NewTracer()))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	relay := outbox.NewRelay(pool, client)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		<-sig
		_ = relay.Shutdown(ctx)
	}()
	if err := relay.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
