package kafkatrace

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/internal/report"
	"github.com/otelkit/otelkit/tracing"
)

// TimeInQueueKey is the span attribute [WithTimeInQueue] records: the
// seconds between a record's timestamp and the start of its processing.
// The messaging conventions define no such attribute, so it lives in this
// package's namespace.
const TimeInQueueKey = attribute.Key("kafkatrace.time_in_queue")

// ErrBadHeaders is reported through otel.Handle, wrapped with the
// record's topic, partition and offset, when a consumed record carries
// propagation headers that cannot be used: an oversized value, or a trace
// context that does not parse. The record is processed all the same, in a
// new trace. A Tracer reports at most once a minute.
var ErrBadHeaders = errors.New("kafkatrace: unusable propagation headers")

// ErrSharedTracer is reported through otel.Handle when one Tracer is
// attached to a second client while the first is open. Attributes keep
// describing the first client; create one Tracer per client.
var ErrSharedTracer = errors.New("kafkatrace: Tracer attached to more than one open client")

// maxCachedTopics bounds the per-topic cache of span names and attributes.
// Beyond it, names are built per record: correct, one allocation slower.
const maxCachedTopics = 1024

// Tracer creates producer spans and injects trace context into record
// headers as a set of kgo hooks, and consumer spans through [Tracer.Process]
// and [Tracer.ProcessBatch].
//
// A Tracer describes one client: it learns the client id, consumer group
// and brokers from the client it is attached to with kgo.WithHooks. Create
// one Tracer per kgo.Client. A Tracer is safe for concurrent use.
type Tracer struct {
	cfg     config
	tracers *tracing.Resolver[trace.TracerProvider, trace.Tracer]
	props   *tracing.Resolver[propagation.TextMapPropagator, *propagator]
	client  atomic.Pointer[clientInfo]

	topics  sync.Map // topic string -> *topicInfo
	ntopics atomic.Int32

	reports *report.Limiter
}

var (
	_ kgo.HookNewClient               = (*Tracer)(nil)
	_ kgo.HookClientClosed            = (*Tracer)(nil)
	_ kgo.HookProduceRecordBuffered   = (*Tracer)(nil)
	_ kgo.HookProduceRecordUnbuffered = (*Tracer)(nil)
)

// NewTracer returns a Tracer configured by opts. Pass it to the client
// with kgo.WithHooks(tracer).
func NewTracer(opts ...Option) *Tracer {
	t := &Tracer{cfg: newConfig(opts), reports: report.New(report.Every)}
	t.tracers = tracing.NewTracerResolver(t.cfg.provider, ScopeName,
		trace.WithInstrumentationVersion(Version),
		trace.WithSchemaURL(semconv.SchemaURL))
	t.props = tracing.NewPropagatorResolver(t.cfg.propagator, newPropagator)
	return t
}

// propagator is the resolved propagator with the headers it owns.
type propagator struct {
	propagation.TextMapPropagator
	fields
}

func newPropagator(p propagation.TextMapPropagator) *propagator {
	return &propagator{TextMapPropagator: p, fields: newFields(p)}
}

// propagation returns the propagator in force, with the headers it owns,
// by conv's rule: the option's, or the global one at the time of the call
// (W3C trace context and baggage when the global one propagates nothing).
// The owned headers are computed again only when the global changes.
func (t *Tracer) propagation() *propagator { return t.props.Get() }

// tracer returns the tracer of the TracerProvider in force, by conv's rule.
func (t *Tracer) tracer() trace.Tracer { return t.tracers.Get() }

// report hands err to otel.Handle, at most once a minute per Tracer: a
// topic full of bad headers must not flood the error handler, and the
// first report already names a record to look at.
func (t *Tracer) report(err error) { t.reports.Report(err) }

// clientInfo holds what the Tracer learned from its client.
type clientInfo struct {
	client *kgo.Client
	// attrs are the client attributes of every span: client id, server
	// address and port.
	attrs []attribute.KeyValue
	// group is the consumer group name, if the client is in a group.
	group attribute.KeyValue
}

func newClientInfo(cl *kgo.Client) *clientInfo {
	ci := &clientInfo{client: cl}
	if id, _ := cl.OptValue(kgo.ClientID).(string); id != "" {
		ci.attrs = append(ci.attrs, semconv.MessagingClientID(id))
	}
	if seeds, _ := cl.OptValue(kgo.SeedBrokers).([]string); len(seeds) > 0 {
		ci.attrs = append(ci.attrs, serverAttrs(seeds[0])...)
	}
	if g, _ := cl.OptValue(kgo.ConsumerGroup).(string); g != "" {
		ci.group = semconv.MessagingConsumerGroupName(g)
	}
	return ci
}

// serverAttrs returns server.address and server.port of a seed broker,
// written as kgo accepts it: host, host:port or [ipv6]:port, port 9092 by
// default.
func serverAttrs(seed string) []attribute.KeyValue {
	host, port := seed, 9092
	if h, p, err := net.SplitHostPort(seed); err == nil {
		host = h
		if n, err := strconv.Atoi(p); err == nil {
			port = n
		}
	}
	if host == "" {
		return nil
	}
	return []attribute.KeyValue{semconv.ServerAddress(host), semconv.ServerPort(port)}
}

// OnNewClient implements kgo.HookNewClient: it learns the client id,
// consumer group and seed brokers from the client. It runs once, in
// kgo.NewClient, before the client starts any goroutine.
func (t *Tracer) OnNewClient(cl *kgo.Client) {
	if !t.client.CompareAndSwap(nil, newClientInfo(cl)) {
		otel.Handle(ErrSharedTracer)
	}
}

// OnClientClosed implements kgo.HookClientClosed: it forgets the client,
// so the Tracer may serve a client created after this one.
func (t *Tracer) OnClientClosed(cl *kgo.Client) {
	if ci := t.client.Load(); ci != nil && ci.client == cl {
		t.client.CompareAndSwap(ci, nil)
	}
}

// topicInfo holds what every span of a topic shares.
type topicInfo struct {
	send, process string
	dest          attribute.KeyValue
	inject        bool
}

func (t *Tracer) newTopicInfo(topic string) *topicInfo {
	ti := &topicInfo{
		send:    "send",
		process: "process",
		dest:    semconv.MessagingDestinationName(topic),
		inject:  t.cfg.inject == nil || t.cfg.inject(topic),
	}
	if topic != "" {
		ti.send += " " + topic
		ti.process += " " + topic
	}
	return ti
}

// topic returns the cached span names and attributes of topic.
func (t *Tracer) topic(topic string) *topicInfo {
	if v, ok := t.topics.Load(topic); ok {
		return v.(*topicInfo)
	}
	ti := t.newTopicInfo(topic)
	if t.ntopics.Load() < maxCachedTopics {
		if v, loaded := t.topics.LoadOrStore(topic, ti); loaded {
			return v.(*topicInfo)
		}
		t.ntopics.Add(1)
	}
	return ti
}

// Attributes every span shares.
var (
	kafka        = semconv.MessagingSystemKafka
	opSend       = semconv.MessagingOperationName("send")
	opProcess    = semconv.MessagingOperationName("process")
	producerKind = trace.WithSpanKind(trace.SpanKindProducer)
	consumerKind = trace.WithSpanKind(trace.SpanKindConsumer)
	tombstone    = semconv.MessagingKafkaMessageTombstone(true)
	newRoot      = trace.WithNewRoot()
)

// recordAttrs appends the attributes describing r itself.
func (t *Tracer) recordAttrs(attrs []attribute.KeyValue, r *kgo.Record) []attribute.KeyValue {
	if len(r.Key) > 0 && utf8.Valid(r.Key) {
		attrs = append(attrs, semconv.MessagingKafkaMessageKey(string(r.Key)))
	}
	if r.Value == nil {
		attrs = append(attrs, tombstone)
	}
	if t.cfg.bodySize {
		attrs = append(attrs, semconv.MessagingMessageBodySize(len(r.Value)))
	}
	return attrs
}

// partitionID returns messaging.destination.partition.id, which the
// conventions define as a string.
func partitionID(p int32) attribute.KeyValue {
	return semconv.MessagingDestinationPartitionID(strconv.Itoa(int(p)))
}
