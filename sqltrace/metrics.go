package sqltrace

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/semconv/v1.43.0/dbconv"
)

// metrics are the instruments of a Tracer, named and described by the
// database semantic conventions.
type metrics struct {
	meter    metric.Meter
	duration dbconv.ClientOperationDuration
	create   dbconv.ClientConnectionCreateTime
	wait     dbconv.ClientConnectionWaitTime
	use      dbconv.ClientConnectionUseTime
	pending  dbconv.ClientConnectionPendingRequests
	timeouts dbconv.ClientConnectionTimeouts
}

// durationBuckets are the bucket boundaries the semantic conventions advise
// for database durations, in seconds.
var durationBuckets = metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10)

func newMetrics(mp metric.MeterProvider) *metrics {
	m := &metrics{meter: mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version))}
	var err error
	// An instrument that cannot be created is a no-op one: report and go on.
	if m.duration, err = dbconv.NewClientOperationDuration(m.meter, durationBuckets); err != nil {
		otel.Handle(err)
	}
	if m.create, err = dbconv.NewClientConnectionCreateTime(m.meter, durationBuckets); err != nil {
		otel.Handle(err)
	}
	if m.wait, err = dbconv.NewClientConnectionWaitTime(m.meter, durationBuckets); err != nil {
		otel.Handle(err)
	}
	if m.use, err = dbconv.NewClientConnectionUseTime(m.meter, durationBuckets); err != nil {
		otel.Handle(err)
	}
	if m.pending, err = dbconv.NewClientConnectionPendingRequests(m.meter); err != nil {
		otel.Handle(err)
	}
	if m.timeouts, err = dbconv.NewClientConnectionTimeouts(m.meter); err != nil {
		otel.Handle(err)
	}
	return m
}
