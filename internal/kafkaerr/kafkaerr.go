// Package kafkaerr gives the domain code of a franz-go error, which
// error.type carries for the Kafka spans of kafkatrace and of the outbox
// relay (through conv.ErrorType), so that both record the same value for
// the same failure.
package kafkaerr

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Code returns the Kafka error code name of a broker error
// (NOT_LEADER_FOR_PARTITION), the name of the client's sentinel errors
// (kgo.ErrRecordRetries), or "" for any other error. It is a conv.ErrorTyper.
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
