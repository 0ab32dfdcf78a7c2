// Package kafkaerr registers the domain code of a franz-go error as its
// error.type (tracing.RegisterErrorTyper): importing it, as kafkatrace and the
// outbox relay do, makes every span that records a Kafka error, theirs and
// the application's, carry the same value for the same failure.
package kafkaerr

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/otelkit/otelkit/tracing"
)

func init() { tracing.RegisterErrorTyper(Code) }

// Code returns the Kafka error code name of a broker error
// (NOT_LEADER_FOR_PARTITION), the name of the client's sentinel errors
// (kgo.ErrRecordRetries), or "" for any other error. It is a tracing.ErrorTyper.
func Code(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return ""
}

var sentinels = []struct {
	err  error
	name string
}{
	{kgo.ErrRecordTimeout, "kgo.ErrRecordTimeout"},
	{kgo.ErrRecordRetries, "kgo.ErrRecordRetries"},
	{kgo.ErrMaxBuffered, "kgo.ErrMaxBuffered"},
	{kgo.ErrAborting, "kgo.ErrAborting"},
	{kgo.ErrClientClosed, "kgo.ErrClientClosed"},
}
