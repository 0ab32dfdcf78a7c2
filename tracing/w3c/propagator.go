package w3c

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/internal/report"
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
//
// The tracestate sent is the span context's, plus the members of the
// tracestate extracted into ctx that trace.TraceState cannot hold (see
// [TraceContext.Extract]), as long as the span context continues the
// extracted trace: members set since come first, the others keep their
// order, and the list is cut to 32 members from the right.
func (TraceContext) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	carrier.Set(traceparentHeader, FormatTraceparent(sc))
	ts := ""
	if in, ok := ctx.Value(inboundKey{}).(*inbound); ok && in != nil && in.traceID == sc.TraceID() {
		ts = in.merge(sc.TraceState())
	} else {
		ts = sc.TraceState().String()
	}
	if ts != "" {
		carrier.Set(tracestateHeader, ts)
	}
}

// Extract returns a copy of ctx holding the remote span context read from
// carrier. If carrier holds no valid traceparent, ctx is returned unchanged,
// so that the next span starts a new trace.
//
// trace.TraceState validates keys by the Level 1 grammar: members whose keys
// only the Level 2 grammar allows (such as "foo@" or "1abc") cannot be in the
// span context's TraceState. Extract keeps the whole list in ctx beside it,
// for Inject to send on.
func (TraceContext) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	sc, members, ok := extract(carrier)
	if !ok {
		return ctx
	}
	switch {
	case members != nil:
		ctx = context.WithValue(ctx, inboundKey{}, &inbound{traceID: sc.TraceID(), held: sc.TraceState(), members: members})
	case ctx.Value(inboundKey{}) != nil:
		// A list extracted earlier into ctx is not this request's.
		ctx = context.WithValue(ctx, inboundKey{}, (*inbound)(nil))
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

// inboundKey is the context key of the *inbound an Extract stored.
type inboundKey struct{}

// inbound is an extracted tracestate that trace.TraceState could not hold
// whole.
type inbound struct {
	traceID trace.TraceID
	held    trace.TraceState // the members put into the span context
	members []member         // the whole list, in order
}

type member struct{ key, value string }

// merge returns the tracestate to send for a span context of the extracted
// trace whose TraceState is now s: the members of s set or changed since
// Extract first (the specification moves mutated members to the left),
// then the extracted members in their order, without those s deleted or
// changed, cut to 32 members.
func (in *inbound) merge(s trace.TraceState) string {
	var b strings.Builder
	n := 0
	add := func(k, v string) {
		if n == maxMembers {
			return
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
		n++
	}
	s.Walk(func(k, v string) bool {
		if in.held.Get(k) != v {
			add(k, v)
		}
		return n < maxMembers
	})
	for _, m := range in.members {
		// Values are never empty: a key missing from held was never held.
		if in.held.Get(m.key) == "" || s.Get(m.key) == m.value {
			add(m.key, m.value)
		}
	}
	return b.String()
}

// extract returns the remote span context in carrier and, if trace.TraceState
// could not hold every member of its tracestate, the whole list.
func extract(carrier propagation.TextMapCarrier) (trace.SpanContext, []member, bool) {
	tp, n := values(carrier, traceparentCanonical, traceparentHeader)
	switch {
	case n == 0:
		return trace.SpanContext{}, nil, false
	case n > 1:
		reportErr(fmt.Errorf("%w: %d traceparent values", ErrTraceparent, n))
		return trace.SpanContext{}, nil, false
	}
	scc, err := parseTraceparent(tp[0])
	if err != nil {
		reportErr(fmt.Errorf("%w: %s: %q", ErrTraceparent, err.Error(), truncate(tp[0])))
		return trace.SpanContext{}, nil, false
	}
	// The tracestate is parsed only once the traceparent is valid, and its
	// failure never affects the traceparent.
	var members []member
	if ts, n := values(carrier, tracestateCanonical, tracestateHeader); n > 0 {
		var err error
		scc.TraceState, members, err = parseTracestate(ts)
		if err != nil {
			reportErr(fmt.Errorf("%w: %w", ErrTracestate, err))
		}
	}
	scc.Remote = true
	return trace.NewSpanContext(scc), members, true
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
// empty members, the whitespace around members and the later members of a
// duplicated key. Any invalid member or more than 32 members invalidate the
// whole list. It returns the members trace.TraceState can hold and, if it
// cannot hold them all, the whole list.
func parseTracestate(vals []string) (trace.TraceState, []member, error) {
	var keys [maxMembers]string
	n, kept := 0, 0
	clean, held := len(vals) == 1, true
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
					return trace.TraceState{}, nil, errMember
				case !validKey(key):
					return trace.TraceState{}, nil, fmt.Errorf("%w %q", errKey, truncate(key))
				case !validValue(val):
					return trace.TraceState{}, nil, fmt.Errorf("%w for key %q", errValue, key)
				case n == maxMembers:
					return trace.TraceState{}, nil, errTooMany
				}
				n++
				if slices.Contains(keys[:kept], key) {
					clean = false
				} else {
					keys[kept] = key
					kept++
					held = held && heldKey(key)
				}
			}
			if !more {
				break
			}
		}
	}
	switch {
	case kept == 0:
		return trace.TraceState{}, nil, nil
	case clean && held:
		ts, err := trace.ParseTraceState(vals[0])
		return ts, nil, err
	}
	members := make([]member, 0, kept)
	var hb strings.Builder
	for _, v := range vals {
		for m := range strings.SplitSeq(v, ",") {
			if m = trimOWS(m); m == "" {
				continue
			}
			key, val, _ := strings.Cut(m, "=")
			if slices.ContainsFunc(members, func(x member) bool { return x.key == key }) {
				continue
			}
			members = append(members, member{key, val})
			if heldKey(key) {
				if hb.Len() > 0 {
					hb.WriteByte(',')
				}
				hb.WriteString(m)
			}
		}
	}
	ts, err := trace.ParseTraceState(hb.String())
	if err != nil {
		// Not expected: heldKey is trace.TraceState's grammar. The list is
		// still sent on whole.
		ts, held = trace.TraceState{}, false
	}
	if held {
		members = nil
	}
	return ts, members, nil
}

// validKey reports whether k matches the Level 2 grammar
//
//	key     = ( lcalpha / DIGIT ) 0*255 ( keychar )
//	keychar = lcalpha / DIGIT / "_" / "-"/ "*" / "/" / "@"
func validKey(k string) bool {
	if k == "" || len(k) > maxKeyLen || !isLower(k[0]) && !isDigit(k[0]) {
		return false
	}
	for i := 1; i < len(k); i++ {
		if c := k[i]; c != '@' && !keyChar(c) {
			return false
		}
	}
	return true
}

// heldKey reports whether trace.TraceState accepts k: whether k matches
// the Level 1 grammar
//
//	key              = simple-key / multi-tenant-key
//	simple-key       = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//	multi-tenant-key = tenant-id "@" system-id
//	tenant-id        = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//	system-id        = lcalpha 0*13( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
func heldKey(k string) bool {
	tenant, system, multi := strings.Cut(k, "@")
	if !multi {
		return len(k) <= maxKeyLen && k != "" && isLower(k[0]) && keyChars(k[1:])
	}
	return tenant != "" && len(tenant) <= maxTenantLen && (isLower(tenant[0]) || isDigit(tenant[0])) && keyChars(tenant[1:]) &&
		system != "" && len(system) <= maxSystemLen && isLower(system[0]) && keyChars(system[1:])
}

func keyChar(c byte) bool {
	return isLower(c) || isDigit(c) || c == '_' || c == '-' || c == '*' || c == '/'
}

func keyChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !keyChar(s[i]) {
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

// reports limits reports of malformed headers: they come from other
// processes, possibly hostile ones, and could otherwise flood the error
// handler.
var reports = report.New(report.Every)

func reportErr(err error) { reports.Report(err) }
