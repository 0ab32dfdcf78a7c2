package batch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/otelconv"
)

// ScopeName is the instrumentation scope of the processor's own metrics.
const ScopeName = "github.com/otelkit/otelkit/sdk/internal/batch"

// observabilityEnabled reports whether the SDK's experimental
// self-observability switch is on, read as the SDK reads it
// (go.opentelemetry.io/otel/sdk/internal/x): the first of
// OTEL_GO_X_OBSERVABILITY and OTEL_GO_X_SELF_OBSERVABILITY that is set and
// not empty decides, and only "true", in any case, turns it on.
func observabilityEnabled() bool {
	for _, k := range []string{"OTEL_GO_X_OBSERVABILITY", "OTEL_GO_X_SELF_OBSERVABILITY"} {
		if v := os.Getenv(k); v != "" {
			return strings.EqualFold(v, "true")
		}
	}
	return false
}

// processorIDs numbers the processors of this package in the order they
// are made, from 0, as the SDK numbers its own.
var processorIDs atomic.Int64

// observer records the SDK's batch span processor instruments for one
// [Processor]. Its methods are called only when the switch was on when the
// processor was made: a nil *observer is the switch off.
type observer struct {
	reg           metric.Registration
	processed     metric.Int64Counter
	processedOpts []metric.AddOption // a success: handed to the exporter
	queueFullOpts []metric.AddOption // dropped from a full queue
}

// newObserver returns nil if the switch is off. Otherwise it registers the
// instruments with the global MeterProvider, under the attributes the SDK
// gives its own processor: otel.component.type batching_span_processor and
// otel.component.name batching_span_processor/<id>. The attribute sets are
// built here, once, so recording allocates nothing.
func newObserver(queueLen func() int64, capacity int64) (*observer, error) {
	if !observabilityEnabled() {
		return nil, nil
	}
	id := processorIDs.Add(1) - 1
	meter := otel.GetMeterProvider().Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))

	var errs []error
	qCap, err := otelconv.NewSDKProcessorSpanQueueCapacity(meter)
	errs = append(errs, err)
	qSize, err := otelconv.NewSDKProcessorSpanQueueSize(meter)
	errs = append(errs, err)
	processed, err := otelconv.NewSDKProcessorSpanProcessed(meter)
	errs = append(errs, err)

	typ := otelconv.ComponentTypeBatchingSpanProcessor
	name := semconv.OTelComponentName(fmt.Sprintf("%s/%d", typ, id))
	set := attribute.NewSet(name, semconv.OTelComponentTypeBatchingSpanProcessor)
	queueFull := attribute.NewSet(name, semconv.OTelComponentTypeBatchingSpanProcessor,
		processed.AttrErrorType(otelconv.ErrorTypeAttr("queue_full")))

	observe := []metric.ObserveOption{metric.WithAttributeSet(set)}
	qSizeInst, qCapInst := qSize.Inst(), qCap.Inst()
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(qSizeInst, queueLen(), observe...)
		o.ObserveInt64(qCapInst, capacity, observe...)
		return nil
	}, qSizeInst, qCapInst)
	errs = append(errs, err)

	return &observer{
		reg:           reg,
		processed:     processed.Inst(),
		processedOpts: []metric.AddOption{metric.WithAttributeSet(set)},
		queueFullOpts: []metric.AddOption{metric.WithAttributeSet(queueFull)},
	}, errors.Join(errs...)
}

// exported counts n spans handed to the exporter, whatever it returns (a
// span is processed once submitted to the exporter, as the convention says
// and the SDK does).
func (o *observer) exported(ctx context.Context, n int) {
	o.processed.Add(ctx, int64(n), o.processedOpts...)
}

// dropped counts a span dropped from a full queue.
func (o *observer) dropped(ctx context.Context) {
	o.processed.Add(ctx, 1, o.queueFullOpts...)
}

// shutdown stops observing the queue.
func (o *observer) shutdown() error {
	if o.reg == nil {
		return nil
	}
	return o.reg.Unregister()
}
