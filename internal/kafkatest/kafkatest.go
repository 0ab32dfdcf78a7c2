// Package kafkatest starts an in-process Kafka cluster (franz-go's kfake,
// which speaks the real Kafka protocol) for tests.
package kafkatest

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Cluster starts a cluster with the given topics already created, each with
// the given number of partitions, and returns its seed brokers. The cluster
// is closed when the test ends.
func Cluster(tb testing.TB, partitions int32, topics ...string) []string {
	tb.Helper()
	return Start(tb, partitions, topics...).ListenAddrs()
}

// Start is [Cluster] returning the cluster itself, for tests that inject
// broker faults with its Control methods.
func Start(tb testing.TB, partitions int32, topics ...string) *kfake.Cluster {
	tb.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation()}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(partitions, topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		tb.Fatalf("kafkatest: start kfake: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}
