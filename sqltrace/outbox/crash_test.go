package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/otelkit/otelkit/internal/kafkatest"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/sqltrace/outbox"
)

// TestRelay_CrashAtEachStepOfABatchLosesNothing stops a relay dead at each
// step of a batch, the windows random kills rarely hit, then lets a fresh
// relay (new pool, new Kafka client, as a restarted process) drain the
// table, and reads the topic back: every row is there, only the crashed
// batch's rows are there twice (all of them when Kafka had acknowledged
// them), and each key's rows are in order.
//
// The crash is what a kill -9 does: the relay is held at the step while
// Postgres terminates its connections (rolling back its transaction and
// releasing its row locks) and its Kafka client is closed; only then is it
// let go, into dead connections and a closed client.
func TestRelay_CrashAtEachStepOfABatchLosesNothing(t *testing.T) {
	for _, c := range []struct {
		name  string
		step  outbox.Step
		twice string // which rows of the crashed batch reach Kafka twice: none, some or all
	}{
		{"after the claim", outbox.StepClaimed, "none"},
		{"after producing", outbox.StepProduced, "some"},
		{"after Kafka's answer", outbox.StepAnswered, "all"},
		{"before the commit", outbox.StepSettled, "all"},
	} {
		t.Run(c.name, func(t *testing.T) { crashAt(t, c.step, c.twice) })
	}
}

func crashAt(t *testing.T, at outbox.Step, twice string) {
	const (
		rows, keys, batch, partitions = 60, 20, 10, 3
		crashBatch                    = 3 // two batches committed before it
	)
	admin := db(t)
	tracingtest.Reports(t) // the crashed relay's listener reports its lost connection
	seeds := kafkatest.Cluster(t, partitions, "orders")
	ctx := context.Background()
	enqueue(t, admin, outbox.NewWriter(), ctx, numbered("orders", rows, keys)...)
	labels := map[int64]string{}
	if err := readRows(ctx, admin, labels); err != nil {
		t.Fatal(err)
	}

	// The process that crashes.
	pool := process(t, admin, "crashing")
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	r := outbox.NewRelay(pool, cl, outbox.WithBatchSize(batch), outbox.WithConcurrency(1),
		outbox.WithPollInterval(5*time.Millisecond))
	reached := make(chan []int64, 1)
	release := make(chan struct{})
	claims := 0
	outbox.SetStepHook(r, func(s outbox.Step, ids []int64) {
		if s == outbox.StepClaimed {
			claims++
		}
		if s == at && claims == crashBatch {
			reached <- ids
			<-release
		}
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	var letGo sync.Once
	stopCrashed := func() {
		letGo.Do(func() {
			cl.Close()
			cancel()
			close(release)
			<-done
			pool.Close()
		})
	}
	defer stopCrashed() // when the test fails before the crash
	var inFlight []int64
	select {
	case inFlight = <-reached:
	case err := <-done:
		t.Fatalf("Run returned %v before batch %d reached the step", err, crashBatch)
	case <-time.After(10 * time.Second):
		t.Fatalf("batch %d never reached the step", crashBatch)
	}
	var visible int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE id = ANY($1)`, inFlight).Scan(&visible); err != nil {
		t.Fatal(err)
	}
	if visible != len(inFlight) {
		t.Errorf("%d of the batch's %d rows are gone before its commit", len(inFlight)-visible, len(inFlight))
	}

	// kill -9.
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'crashing' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "crashed connections gone", func() (bool, string) {
		var n int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'crashing'`).Scan(&n); err != nil {
			return false, err.Error()
		}
		return n == 0, fmt.Sprintf("%d left", n)
	})
	stopCrashed()

	// The restarted process.
	cl2, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	stop := start(t, outbox.NewRelay(process(t, admin, "restarted"), cl2, outbox.WithBatchSize(batch),
		outbox.WithPollInterval(5*time.Millisecond)))
	waitEmpty(t, admin, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	published := readTopic(t, seeds, "orders", partitions)
	count := map[string]int{}
	for _, recs := range published {
		for _, r := range recs {
			count[string(r.Value)]++
		}
	}
	crashed := map[string]bool{}
	for _, id := range inFlight {
		crashed[labels[id]] = true
	}
	var dups []string
	for i := range rows {
		l := strconv.Itoa(i)
		switch n := count[l]; {
		case n == 0:
			t.Errorf("row %s lost", l)
		case n == 2 && crashed[l]:
			dups = append(dups, l)
		case n > 1:
			t.Errorf("row %s published %d times; the crashed batch was %v", l, n, inFlight)
		}
	}
	switch {
	case twice == "none" && len(dups) > 0:
		t.Errorf("rows %v published twice; nothing of the batch had been produced", dups)
	case twice == "all" && len(dups) != len(inFlight):
		t.Errorf("rows %v published twice, want all %d rows of the acknowledged batch", dups, len(inFlight))
	}
	t.Logf("crashed batch of %d rows, %d published twice", len(inFlight), len(dups))

	// Per key, in partition order: each row follows the key's previous
	// one, or repeats it when it was in the crashed batch.
	for p, recs := range published {
		last := map[string]int{}
		for _, r := range recs {
			v, _ := strconv.Atoi(string(r.Value))
			prev, seen := last[string(r.Key)]
			switch {
			case !seen && v >= keys:
				t.Errorf("partition %d: key %s starts at row %d", p, r.Key, v)
			case seen && v == prev && crashed[string(r.Value)]:
			case seen && v != prev+keys:
				t.Errorf("partition %d: key %s: row %d after row %d", p, r.Key, v, prev)
			}
			last[string(r.Key)] = v
		}
	}
}

// process returns a pool on admin's schema whose connections carry the
// application name, so a test can kill them all as a crash would.
func process(t *testing.T, admin *pgxpool.Pool, name string) *pgxpool.Pool {
	t.Helper()
	cfg := admin.Config().Copy()
	cfg.ConnConfig.RuntimeParams["application_name"] = name
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func readRows(ctx context.Context, pool *pgxpool.Pool, labels map[int64]string) error {
	rows, err := pool.Query(ctx, `SELECT id, payload FROM outbox`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var payload []byte
		if err := rows.Scan(&id, &payload); err != nil {
			return err
		}
		labels[id] = string(payload)
	}
	return rows.Err()
}

// readTopic returns every record of the topic, per partition in offset
// order, up to the end offsets at the time of the call.
func readTopic(t *testing.T, seeds []string, topic string, partitions int32) [][]*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offsets := map[int32]kgo.Offset{}
	for p := range partitions {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for p := range partitions {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = p, -1 // the end
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	end := make([]int64, partitions)
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			end[rp.Partition] = rp.Offset
		}
	}
	out := make([][]*kgo.Record, partitions)
	next := make([]int64, partitions)
	for !slices.Equal(next, end) {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %s: offsets %v of %v: %v", topic, next, end, err)
		}
		fs.EachError(func(_ string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("fetch partition %d: %v", p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			out[r.Partition] = append(out[r.Partition], r)
			next[r.Partition] = r.Offset + 1
		})
	}
	return out
}
