package kafkatrace

import (
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/propagation"
)

// maxHeaderValue bounds the propagation header values the carrier hands
// to the propagator: larger values are treated as absent. W3C baggage is
// limited to 8192 bytes and traceparent and tracestate are far shorter,
// so only garbage is refused, and a hostile producer cannot make every
// consumer copy and parse megabytes per record.
const maxHeaderValue = 8192

// carrier adapts a record's headers to propagation.TextMapCarrier.
//
// Kafka header keys are case-sensitive byte strings and may repeat. Get
// returns the last header with the key, as Kafka's Java client
// (Headers.lastHeader) and the OpenTelemetry Java instrumentation do, so a
// record that picked up a second traceparent along the way is read the
// same by every consumer. Set replaces a header with the key, else
// appends one; the Tracer only calls Set on a header slice it allocated
// itself, never on one the application may share.
//
// carrier is a single pointer, so converting it to the interface does not
// allocate.
type carrier struct{ r *kgo.Record }

var _ propagation.TextMapCarrier = carrier{}

// Get returns the value of the last header named key, or "" when there is
// none or it exceeds maxHeaderValue.
func (c carrier) Get(key string) string {
	hs := c.r.Headers
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Key == key {
			if len(hs[i].Value) > maxHeaderValue {
				return ""
			}
			return string(hs[i].Value)
		}
	}
	return ""
}

// Set sets the header named key to value.
func (c carrier) Set(key, value string) {
	for i := range c.r.Headers {
		if c.r.Headers[i].Key == key {
			c.r.Headers[i].Value = []byte(value)
			return
		}
	}
	c.r.Headers = append(c.r.Headers, kgo.RecordHeader{Key: key, Value: []byte(value)})
}

// Keys returns the keys of all headers, in order, repeated keys included.
func (c carrier) Keys() []string {
	keys := make([]string, len(c.r.Headers))
	for i, h := range c.r.Headers {
		keys[i] = h.Key
	}
	return keys
}

// fields is the set of header keys a propagator owns, with the subset
// that carries a span context (all but baggage), to tell a record that
// has no trace context from one whose trace context is unusable.
type fields struct {
	all   []string
	trace []string
}

func newFields(p propagation.TextMapPropagator) fields {
	var bag []string = propagation.Baggage{}.Fields()
	var f fields
	for _, k := range p.Fields() {
		if contains(f.all, k) {
			continue
		}
		f.all = append(f.all, k)
		if !contains(bag, k) {
			f.trace = append(f.trace, k)
		}
	}
	return f
}

func contains(keys []string, k string) bool {
	for _, s := range keys {
		if s == k {
			return true
		}
	}
	return false
}

// owns reports whether the header key belongs to the propagator.
func (f *fields) owns(key string) bool { return contains(f.all, key) }

// strip returns the headers of hs that the propagator does not own, in
// order, with room for n more, in dst's array when they fit, else in a new
// one. It never writes to hs: a record's header slice may share its array
// with a consumed record or another produced one.
func (f *fields) strip(hs []kgo.RecordHeader, n int, dst []kgo.RecordHeader) []kgo.RecordHeader {
	kept := 0
	for _, h := range hs {
		if !f.owns(h.Key) {
			kept++
		}
	}
	if kept+n > cap(dst) {
		dst = make([]kgo.RecordHeader, 0, kept+n)
	}
	for _, h := range hs {
		if !f.owns(h.Key) {
			dst = append(dst, h)
		}
	}
	return dst
}

// writer is the carrier Inject writes a produced record's headers
// through. It writes values into buf while they fit, so a traceparent
// costs no allocation of its own, and caps each value's capacity so that
// appending to one can never overwrite the next. Like carrier, it is
// passed as a single pointer.
type writer struct {
	r   *kgo.Record
	buf []byte
}

var _ propagation.TextMapCarrier = (*writer)(nil)

func (w *writer) Get(key string) string { return carrier{w.r}.Get(key) }

func (w *writer) Keys() []string { return carrier{w.r}.Keys() }

// Set sets the header named key to value.
func (w *writer) Set(key, value string) {
	var v []byte
	if n := len(w.buf); len(value) <= cap(w.buf)-n {
		w.buf = append(w.buf, value...)
		v = w.buf[n:len(w.buf):len(w.buf)]
	} else {
		v = []byte(value)
	}
	for i := range w.r.Headers {
		if w.r.Headers[i].Key == key {
			w.r.Headers[i].Value = v
			return
		}
	}
	w.r.Headers = append(w.r.Headers, kgo.RecordHeader{Key: key, Value: v})
}

// headerFault describes what is wrong with a record's propagation headers.
type headerFault uint8

const (
	// faultOversized: a propagation header exceeds maxHeaderValue and
	// was ignored.
	faultOversized headerFault = 1 << iota
	// faultTraceHeader: a trace-context header is present, so a record
	// that yields no span context has an unusable one, not a missing one.
	faultTraceHeader
)

// inspect reports the facts about hs that extraction cannot return.
func (f *fields) inspect(hs []kgo.RecordHeader) headerFault {
	var h headerFault
	for i := range hs {
		k := hs[i].Key
		if !f.owns(k) {
			continue
		}
		if len(hs[i].Value) > maxHeaderValue {
			h |= faultOversized
		}
		if contains(f.trace, k) {
			h |= faultTraceHeader
		}
	}
	return h
}
