package w3c

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

const (
	traceparentHeader = "traceparent"
	tracestateHeader  = "tracestate"

	// Canonical MIME forms, to index a propagation.HeaderCarrier without
	// canonicalizing (and allocating) on every request.
	traceparentCanonical = "Traceparent"
	tracestateCanonical  = "Tracestate"

	// traceparentLen is the length of a version 00 traceparent and the
	// minimum length of any version.
	traceparentLen = 55

	maxMembers     = 32
	maxKeyLen      = 256
	maxTenantLen   = 241
	maxSystemLen   = 14
	maxValueLen    = 256
	supportedFlags = trace.FlagsSampled | trace.FlagsRandom
)

// ErrTraceparent is wrapped by the error reported when an inbound
// traceparent is malformed and a new trace is started instead.
var ErrTraceparent = errors.New("w3c: invalid traceparent")

// ErrTracestate is wrapped by the error reported when an inbound tracestate
// is malformed and discarded.
var ErrTracestate = errors.New("w3c: invalid tracestate")

// TraceContext propagates trace context in the W3C traceparent and
// tracestate headers. The zero value is ready to use and safe for concurrent
// use.
type TraceContext struct{}

var _ propagation.TextMapPropagator = TraceContext{}

// Fields returns the header names Inject sets.
func (TraceContext) Fields() []string {
	return []string{traceparentHeader, tracestateHeader}
}

// Inject sets the traceparent (version 00) and, if not empty, the tracestate
// of the span context in ctx on carrier. It sets nothing if ctx holds no
// valid span context. Only the sampled and random flags are sent.
func (TraceContext) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	carrier.Set(traceparentHeader, FormatTraceparent(sc))
	if ts := sc.TraceState().String(); ts != "" {
		carrier.Set(tracestateHeader, ts)
	}
}

// Extract returns a copy of ctx holding the remote span context read from
// carrier. If carrier holds no valid traceparent, ctx is returned unchanged,
// so that the next span starts a new trace.
func (TraceContext) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	sc, ok := extract(carrier)
	if !ok {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

func extract(carrier propagation.TextMapCarrier) (trace.SpanContext, bool) {
	tp, n := values(carrier, traceparentCanonical, traceparentHeader)
	switch {
	case n == 0:
		return trace.SpanContext{}, false
	case n > 1:
		report(fmt.Errorf("%w: %d traceparent values", ErrTraceparent, n))
		return trace.SpanContext{}, false
	}
	scc, err := parseTraceparent(tp[0])
	if err != nil {
		report(fmt.Errorf("%w: %s: %q", ErrTraceparent, err.Error(), truncate(tp[0])))
		return trace.SpanContext{}, false
	}
	// The tracestate is parsed only once the traceparent is valid, and its
	// failure never affects the traceparent.
	if ts, n := values(carrier, tracestateCanonical, tracestateHeader); n > 0 {
		state, err := parseTracestate(ts)
		if err != nil {
			report(fmt.Errorf("%w: %w", ErrTracestate, err))
		}
		scc.TraceState = state
	}
	scc.Remote = true
	return trace.NewSpanContext(scc), true
}

// values returns the values of the header key, and how many there are.
func values(carrier propagation.TextMapCarrier, canonical, key string) ([]string, int) {
	switch c := carrier.(type) {
	case propagation.HeaderCarrier:
		// http.Header.Values would canonicalize key into canonical,
		// allocating on every call.
		v := c[canonical]
		return v, len(v)
	case propagation.ValuesGetter:
		v := c.Values(key)
		return v, len(v)
	}
	v := carrier.Get(key)
	if v == "" {
		return nil, 0
	}
	return []string{v}, 1
}

type parseError string

func (e parseError) Error() string { return string(e) }

const (
	errLength  parseError = "wrong length"
	errVersion parseError = "invalid version"
	errTraceID parseError = "invalid trace-id"
	errSpanID  parseError = "invalid parent-id"
	errFlags   parseError = "invalid trace-flags"
	errDelim   parseError = "missing delimiter"
	errMember  parseError = "list-member without '='"
	errKey     parseError = "invalid key"
	errValue   parseError = "invalid value"
	errTooMany parseError = "more than 32 list-members"
	errDupKey  parseError = "duplicate key"
)

// parseTraceparent parses a traceparent value by the version 00 layout,
// which future versions extend only by appending fields.
func parseTraceparent(s string) (trace.SpanContextConfig, error) {
	var scc trace.SpanContextConfig
	s = trimOWS(s)
	if len(s) < traceparentLen {
		return scc, errLength
	}
	var version [1]byte
	if !decodeHex(version[:], s[0:2]) || version[0] == 0xff {
		return scc, errVersion
	}
	if s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return scc, errDelim
	}
	switch {
	case version[0] == 0 && len(s) != traceparentLen:
		return scc, errLength
	case len(s) > traceparentLen && s[traceparentLen] != '-':
		return scc, errDelim
	}
	if !decodeHex(scc.TraceID[:], s[3:35]) || !scc.TraceID.IsValid() {
		return scc, errTraceID
	}
	if !decodeHex(scc.SpanID[:], s[36:52]) || !scc.SpanID.IsValid() {
		return scc, errSpanID
	}
	var flags [1]byte
	if !decodeHex(flags[:], s[53:55]) {
		return scc, errFlags
	}
	scc.TraceFlags = trace.TraceFlags(flags[0]) & supportedFlags
	return scc, nil
}

// parseTracestate combines the tracestate values into one list, dropping
// empty members and the whitespace around members. Any invalid member, a
// duplicate key or more than 32 members invalidate the whole list.
func parseTracestate(vals []string) (trace.TraceState, error) {
	var keys [maxMembers]string
	n := 0
	clean := len(vals) == 1
	for _, v := range vals {
		for rest := v; ; {
			m, tail, more := strings.Cut(rest, ",")
			rest = tail
			t := trimOWS(m)
			if len(t) != len(m) || t == "" {
				clean = false
			}
			if t != "" {
				key, val, ok := strings.Cut(t, "=")
				switch {
				case !ok:
					return trace.TraceState{}, errMember
				case !validKey(key):
					return trace.TraceState{}, fmt.Errorf("%w %q", errKey, truncate(key))
				case !validValue(val):
					return trace.TraceState{}, fmt.Errorf("%w for key %q", errValue, key)
				case n == maxMembers:
					return trace.TraceState{}, errTooMany
				}
				for _, k := range keys[:n] {
					if k == key {
						return trace.TraceState{}, fmt.Errorf("%w %q", errDupKey, key)
					}
				}
				keys[n] = key
				n++
			}
			if !more {
				break
			}
		}
	}
	if n == 0 {
		return trace.TraceState{}, nil
	}
	combined := vals[0]
	if !clean {
		combined = joinMembers(vals)
	}
	return trace.ParseTraceState(combined)
}

// joinMembers joins the non-empty, trimmed members of vals with commas.
func joinMembers(vals []string) string {
	var b strings.Builder
	for _, v := range vals {
		for m := range strings.SplitSeq(v, ",") {
			if m = trimOWS(m); m == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(m)
		}
	}
	return b.String()
}

// validKey reports whether k matches
//
//	key              = simple-key / multi-tenant-key
//	simple-key       = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//	multi-tenant-key = tenant-id "@" system-id
//	tenant-id        = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//	system-id        = lcalpha 0*13( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
func validKey(k string) bool {
	tenant, system, multi := strings.Cut(k, "@")
	if !multi {
		return len(k) <= maxKeyLen && k != "" && isLower(k[0]) && keyChars(k[1:])
	}
	return tenant != "" && len(tenant) <= maxTenantLen && (isLower(tenant[0]) || isDigit(tenant[0])) && keyChars(tenant[1:]) &&
		system != "" && len(system) <= maxSystemLen && isLower(system[0]) && keyChars(system[1:])
}

func keyChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLower(c) && !isDigit(c) && c != '_' && c != '-' && c != '*' && c != '/' {
			return false
		}
	}
	return true
}

// validValue reports whether v matches
//
//	value    = 0*255(chr) nblk-chr
//	nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
//	chr      = %x20 / nblk-chr
func validValue(v string) bool {
	if v == "" || len(v) > maxValueLen || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == ',' || c == '=' {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// decodeHex decodes the lowercase hex string src into dst, which must be
// len(src)/2 long. Upper-case digits are invalid in traceparent.
func decodeHex(dst []byte, src string) bool {
	for i := range dst {
		hi, ok1 := unhex(src[2*i])
		lo, ok2 := unhex(src[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

const hexDigits = "0123456789abcdef"

// FormatTraceparent returns the version 00 traceparent of sc (also the
// layout of the traceresponse header), with only the sampled and random
// flags. It returns "" if sc is not valid.
func FormatTraceparent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	var buf [traceparentLen]byte
	buf[0], buf[1], buf[2] = '0', '0', '-'
	tid, sid := sc.TraceID(), sc.SpanID()
	encodeHex(buf[3:35], tid[:])
	buf[35] = '-'
	encodeHex(buf[36:52], sid[:])
	buf[52] = '-'
	encodeHex(buf[53:55], []byte{byte(sc.TraceFlags() & supportedFlags)})
	return string(buf[:])
}

func encodeHex(dst, src []byte) {
	for i, b := range src {
		dst[2*i] = hexDigits[b>>4]
		dst[2*i+1] = hexDigits[b&0x0f]
	}
}

// truncate bounds what an error message quotes of an untrusted header.
func truncate(s string) string {
	const limit = 64
	if len(s) > limit {
		return s[:limit] + "..."
	}
	return s
}

// reportEvery limits reports of malformed headers: they come from other
// processes, possibly hostile ones, and could otherwise flood the error
// handler.
var reportEvery = time.Minute

var lastReport atomic.Int64

func report(err error) {
	now := time.Now().UnixNano()
	last := lastReport.Load()
	if last != 0 && now-last < int64(reportEvery) || !lastReport.CompareAndSwap(last, now) {
		return
	}
	otel.Handle(err)
}
