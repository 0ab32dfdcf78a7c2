package tracing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/internal/report"
)

// W3C Baggage limits (https://www.w3.org/TR/baggage/#limits).
const (
	maxBaggageMembers = 64
	maxBaggageBytes   = 8192
)

// maxBusinessValueLen bounds a business value taken from baggage: anything
// longer is not an id, an amount or a currency, and is not copied to spans.
const maxBusinessValueLen = 256

// ErrBaggageFull is wrapped by the error reported when a traveling business
// key does not fit in the W3C baggage limits (64 members, 8192 bytes).
var ErrBaggageFull = errors.New("tracing: business key does not fit in baggage")

// ErrBusinessValue is wrapped by the error reported when [SetBusiness]
// refuses a value: empty, not printable UTF-8, longer than 256 bytes, not a
// finite number, or not of the type its key is registered with.
var ErrBusinessValue = errors.New("tracing: invalid business value")

// SetBusiness sets business attributes for the rest of the request: it sets
// attrs on the span in ctx and returns a context whose baggage carries the
// keys registered with [Travels], so that they reach every span started
// after it, in this service (through tracing's baggage span processor) and
// in downstream services (through the baggage propagator).
//
// A value that is empty, not printable UTF-8, longer than 256 bytes, a NaN
// or infinite float, or of another type than its key is registered with is
// refused: it is set neither on the span nor in baggage (a value the key
// held before stays), and is reported through otel.Handle, wrapping
// [ErrBusinessValue], at most once a minute. Reports name the key, never the value, which may be personal
// data. A traveling key that does not fit in the W3C limits of the baggage
// in ctx stays on the current span and is reported (wrapping
// [ErrBaggageFull]); it is never silently lost. Unregistered keys are set on
// the span only.
//
// Baggage is sent in clear with every outgoing request that propagates it,
// personal data included (it is hashed only on export): do not propagate
// baggage to third parties.
func SetBusiness(ctx context.Context, attrs ...attribute.KeyValue) context.Context {
	span := trace.SpanFromContext(ctx)
	bag := baggage.FromContext(ctx)
	var added []string
	var spanAttrs []attribute.KeyValue
	for _, kv := range attrs {
		if !kv.Valid() {
			continue
		}
		info, registered := LookupKey(kv.Key)
		if err := checkBusiness(kv, info, registered); err != nil {
			businessReports.Report(err)
			continue
		}
		spanAttrs = append(spanAttrs, kv)
		if !registered || !info.Travels {
			continue
		}
		// Neither error names the value: otel's would quote it.
		m, err := baggage.NewMemberRaw(string(kv.Key), kv.Value.String())
		if err != nil {
			businessReports.Report(fmt.Errorf("%w: %q: not a valid baggage member", ErrBusinessValue, kv.Key))
			continue
		}
		if bag, err = bag.SetMember(m); err != nil {
			businessReports.Report(fmt.Errorf("%w: %q: not set in baggage", ErrBusinessValue, kv.Key))
			continue
		}
		added = append(added, string(kv.Key))
	}
	span.SetAttributes(spanAttrs...)
	if len(added) == 0 {
		return ctx
	}
	// Drop the newest members until the baggage fits; what was there
	// before keeps its place.
	for i := len(added) - 1; i >= 0 && !fits(bag); i-- {
		bag = bag.DeleteMember(added[i])
		otel.Handle(fmt.Errorf("%w: %q (limits: %d members, %d bytes)", ErrBaggageFull, added[i], maxBaggageMembers, maxBaggageBytes))
	}
	return baggage.ContextWithBaggage(ctx, bag)
}

// checkBusiness returns why SetBusiness refuses kv, or nil. It names the
// key and never the value.
func checkBusiness(kv attribute.KeyValue, info KeyInfo, registered bool) error {
	if registered && kv.Value.Type() != info.Type {
		return fmt.Errorf("%w: %q is %s, got %s", ErrBusinessValue, kv.Key, info.Type, kv.Value.Type())
	}
	var problem string
	switch kv.Value.Type() {
	case attribute.STRING:
		problem = valueProblem(kv.Value.AsString())
	case attribute.FLOAT64:
		if !finite(kv.Value.AsFloat64()) {
			problem = "not a finite number"
		}
	}
	if problem != "" {
		return fmt.Errorf("%w: %q: %s", ErrBusinessValue, kv.Key, problem)
	}
	return nil
}

// valueProblem returns why v is no business value, or "": a business value
// is an id, an amount or a currency, never empty, longer than 256 bytes or
// unprintable.
func valueProblem(v string) string {
	switch {
	case v == "":
		return "empty value"
	case len(v) > maxBusinessValueLen:
		return fmt.Sprintf("value of %d bytes is longer than %d", len(v), maxBusinessValueLen)
	case !printable(v):
		return "value is not printable UTF-8"
	}
	return ""
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func fits(b baggage.Baggage) bool {
	return b.Len() <= maxBaggageMembers && len(b.String()) <= maxBaggageBytes
}

// Business returns the business attributes carried by ctx's baggage: the
// members whose key is a registered traveling key and whose value parses as
// the key's type, sorted by key. Members that are not allowlisted, are
// malformed, empty, too long or not printable UTF-8 are left out.
func Business(ctx context.Context) []attribute.KeyValue {
	return AppendBusiness(ctx, nil)
}

// AppendBusiness appends the attributes [Business] returns to dst. With a
// nil dst, the slice it allocates is sized for what can be found.
func AppendBusiness(ctx context.Context, dst []attribute.KeyValue) []attribute.KeyValue {
	bag := baggage.FromContext(ctx)
	if bag.Len() == 0 {
		return dst
	}
	keys := travelingKeys()
	for _, info := range keys {
		if kv, ok := businessMember(bag, info); ok {
			if dst == nil {
				dst = make([]attribute.KeyValue, 0, min(bag.Len(), len(keys)))
			}
			dst = append(dst, kv)
		}
	}
	return dst
}

func businessMember(bag baggage.Baggage, info KeyInfo) (attribute.KeyValue, bool) {
	m := bag.Member(string(info.Key))
	if m.Key() == "" {
		return attribute.KeyValue{}, false
	}
	kv, err := decodeBusiness(info, m.Value())
	if err != nil {
		inboundReports.Report(err)
		return attribute.KeyValue{}, false
	}
	return kv, true
}

func decodeBusiness(info KeyInfo, v string) (attribute.KeyValue, error) {
	if problem := valueProblem(v); problem != "" {
		return attribute.KeyValue{}, fmt.Errorf("tracing: baggage member %q: %s", info.Key, problem)
	}
	switch info.Type {
	case attribute.STRING:
		return info.Key.String(v), nil
	case attribute.INT64:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return attribute.KeyValue{}, fmt.Errorf("tracing: baggage member %q: %w", info.Key, err)
		}
		return info.Key.Int64(n), nil
	case attribute.FLOAT64:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !finite(f) {
			return attribute.KeyValue{}, fmt.Errorf("tracing: baggage member %q: not a finite number", info.Key)
		}
		return info.Key.Float64(f), nil
	case attribute.BOOL:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return attribute.KeyValue{}, fmt.Errorf("tracing: baggage member %q: %w", info.Key, err)
		}
		return info.Key.Bool(b), nil
	}
	return attribute.KeyValue{}, fmt.Errorf("tracing: baggage member %q: unsupported type %s", info.Key, info.Type)
}

// printable refuses invalid UTF-8, the replacement character a decoder
// substitutes for it, and control characters: none belongs in a business
// value, and all of them confuse the reader of a trace.
func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// inboundReports limits reports about inbound baggage, which comes from
// other processes, possibly hostile ones; businessReports, about values
// SetBusiness refuses, refused on every request: either could otherwise
// flood the error handler, and each has its own limit so that hostile
// baggage cannot hide a refusal.
var inboundReports, businessReports = report.New(report.Every), report.New(report.Every)
