package w3c_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing/w3c"
)

// This file ports the W3C trace-context test suite (test/test.py of
// github.com/w3c/trace-context, the 2026 version with the Level 2 tracestate
// key grammar, run with STRICT_LEVEL=2 SPEC_LEVEL=2) to Go, over the wire as
// the suite runs: the harness sends a request with the test's headers to a
// service, which continues the trace in a server span and calls the harness
// back with a client span; the harness checks the traceparent and tracestate
// of the callback. Each Go subtest bears the name of the suite's test.
//
// Where the suite only checks that a trace id changed, the port also checks
// that the service's span is a root and that no tracestate was sent on; where
// the suite accepts several outcomes (duplicated keys), the port checks the
// one the propagator chose.

// suite is the service under test and the harness it calls back.
type suite struct {
	rec     *tracingtest.Recorder
	service *httptest.Server

	mu        sync.Mutex
	callbacks []http.Header
}

func newSuite(t *testing.T) *suite {
	s := &suite{rec: tracingtest.New(t)}
	harness := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.callbacks = append(s.callbacks, r.Header.Clone())
		s.mu.Unlock()
	}))
	t.Cleanup(harness.Close)
	tracer := s.rec.TracerProvider().Tracer("w3c-suite")
	p := w3c.TraceContext{}
	s.service = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := p.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, "suite.handle", trace.WithSpanKind(trace.SpanKindServer))
		// Deferred: the span ends before the response is written.
		defer span.End()
		n, _ := strconv.Atoi(r.URL.Query().Get("callbacks"))
		for range max(n, 1) {
			cctx, client := tracer.Start(ctx, "suite.callback", trace.WithSpanKind(trace.SpanKindClient))
			req, _ := http.NewRequestWithContext(cctx, http.MethodPost, harness.URL, nil)
			p.Inject(cctx, propagation.HeaderCarrier(req.Header))
			resp, err := harness.Client().Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
			} else {
				resp.Body.Close()
			}
			client.End()
		}
	}))
	t.Cleanup(s.service.Close)
	return s
}

// callback is what the harness received: the traceparent and tracestate
// as the suite's Traceparent and Tracestate classes parse them.
type callback struct {
	traceID, parentID string
	flags             byte
	state             string // the tracestate members, joined by commas
}

// send sends the header fields h, in order and with their names as given,
// and returns the n callbacks the service made, and the service's span.
func (s *suite) send(t *testing.T, h header, n int) ([]callback, trace.SpanContext, trace.SpanContext) {
	t.Helper()
	s.rec.Reset()
	s.mu.Lock()
	s.callbacks = nil
	s.mu.Unlock()
	req, err := http.NewRequest(http.MethodPost, s.service.URL+"?callbacks="+strconv.Itoa(n), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range h {
		req.Header[f[0]] = append(req.Header[f[0]], f[1]) // names not canonicalized
	}
	resp, err := s.service.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("service: %s", resp.Status)
	}
	handle := s.rec.Span(t, "suite.handle")
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.callbacks) != n {
		t.Fatalf("%d callbacks, want %d", len(s.callbacks), n)
	}
	out := make([]callback, n)
	for i, ch := range s.callbacks {
		out[i] = parseCallback(t, ch)
	}
	return out, handle.SpanContext(), handle.Parent()
}

var (
	harnessTraceparent = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$`)
	harnessMember      = regexp.MustCompile(`^([0-9a-z][_0-9a-z\-\*\/@]{0,255})=([\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e])$`)
	harnessDelimiter   = regexp.MustCompile("[ \t]*,[ \t]*")
)

// parseCallback checks the callback's headers as the suite's harness does:
// one valid traceparent, a tracestate whose members all match the key and
// value grammar. It also checks what the suite leaves optional: one
// tracestate field, at most 32 members, no duplicated key.
func parseCallback(t *testing.T, h http.Header) callback {
	t.Helper()
	tp := h.Values("traceparent")
	if len(tp) != 1 {
		t.Fatalf("callback: %d traceparent fields, want 1", len(tp))
	}
	m := harnessTraceparent.FindStringSubmatch(tp[0])
	if m == nil || m[1] == "ff" || m[2] == strings.Repeat("0", 32) || m[3] == strings.Repeat("0", 16) {
		t.Fatalf("callback: invalid traceparent %q", tp[0])
	}
	flags, _ := strconv.ParseUint(m[4], 16, 8)
	cb := callback{traceID: m[2], parentID: m[3], flags: byte(flags)}
	ts := h.Values("tracestate")
	switch {
	case len(ts) > 1:
		t.Errorf("callback: %d tracestate fields, want at most 1", len(ts))
	case len(ts) == 1 && ts[0] == "":
		t.Error("callback: empty tracestate field sent")
	}
	var members []string
	seen := map[string]bool{}
	for _, v := range ts {
		for _, mem := range harnessDelimiter.Split(v, -1) {
			if mem == "" {
				continue
			}
			kv := harnessMember.FindStringSubmatch(mem)
			if kv == nil {
				t.Fatalf("callback: illegal tracestate member %q", mem)
			}
			if seen[kv[1]] {
				t.Errorf("callback: duplicated tracestate key %q", kv[1])
			}
			seen[kv[1]] = true
			members = append(members, mem)
		}
	}
	if len(members) > 32 {
		t.Errorf("callback: %d tracestate members, want at most 32", len(members))
	}
	cb.state = strings.Join(members, ",")
	return cb
}

const (
	tp00  = "00-" + traceID + "-" + spanID + "-00"
	tp01  = "00-" + traceID + "-" + spanID + "-01"
	other = "12345678901234567890123456789011"
)

// The characters tracestate keys (Level 1, without "@") and values may hold.
const allKeyChars = "abcdefghijklmnopqrstuvwxyz0123456789_-*/"

var allValueChars = func() string {
	var b strings.Builder
	for c := byte(0x20); c <= 0x7e; c++ {
		if c != ',' && c != '=' {
			b.WriteByte(c)
		}
	}
	return b.String()
}()

// step is one request of a suite test.
type step struct {
	h       header
	restart bool   // the service starts a new trace: no tracestate is sent on
	state   string // the tracestate sent on when the trace continues; "" for none
}

func TestW3CSuite(t *testing.T) {
	s := newSuite(t)
	tp := func(v string) [2]string { return [2]string{"traceparent", v} }
	ts := func(v string) [2]string { return [2]string{"tracestate", v} }
	restart := func(h ...[2]string) step { return step{h: h, restart: true} }
	continues := func(state string, h ...[2]string) step { return step{h: h, state: state} }

	bars := func(from, to int) string {
		var m []string
		for i := from; i <= to; i++ {
			m = append(m, fmt.Sprintf("bar%02d=%02d", i, i))
		}
		return strings.Join(m, ",")
	}
	z256, z257 := strings.Repeat("z", 256), strings.Repeat("z", 257)
	t241v14 := strings.Repeat("t", 241) + "@" + strings.Repeat("v", 14)
	t242v := strings.Repeat("t", 242) + "@v"
	tv15 := "t@" + strings.Repeat("v", 15)

	tests := []struct {
		name  string
		steps []step
	}{
		{"test_both_traceparent_and_tracestate_missing", []step{restart()}},
		{"test_traceparent_included_tracestate_missing", []step{continues("", tp(tp01))}},
		{"test_traceparent_duplicated", []step{restart(tp("00-"+other+"-"+spanID+"-01"), tp(tp01))}},
		{"test_traceparent_header_name", []step{
			restart([2]string{"trace-parent", tp01}),
			restart([2]string{"trace.parent", tp01}),
		}},
		{"test_traceparent_header_name_valid_casing", []step{
			continues("", [2]string{"TraceParent", tp01}),
			continues("", [2]string{"TrAcEpArEnT", tp01}),
			continues("", [2]string{"TRACEPARENT", tp01}),
		}},
		{"test_traceparent_version_0x00", []step{
			restart(tp(tp01 + ".")),
			restart(tp(tp01 + "-what-the-future-will-be-like")),
		}},
		{"test_traceparent_version_0xcc", []step{
			continues("", tp("cc-"+traceID+"-"+spanID+"-01")),
			continues("", tp("cc-"+traceID+"-"+spanID+"-01-what-the-future-will-be-like")),
			restart(tp("cc-" + traceID + "-" + spanID + "-01.what-the-future-will-be-like")),
		}},
		{"test_traceparent_version_0xff", []step{restart(tp("ff-" + traceID + "-" + spanID + "-01"))}},
		{"test_traceparent_version_illegal_characters", []step{
			restart(tp(".0-" + traceID + "-" + spanID + "-01")),
			restart(tp("0.-" + traceID + "-" + spanID + "-01")),
		}},
		{"test_traceparent_version_too_long", []step{
			restart(tp("000-" + traceID + "-" + spanID + "-01")),
			restart(tp("0000-" + traceID + "-" + spanID + "-01")),
		}},
		{"test_traceparent_version_too_short", []step{restart(tp("0-" + traceID + "-" + spanID + "-01"))}},
		{"test_traceparent_trace_id_all_zero", []step{restart(tp("00-00000000000000000000000000000000-" + spanID + "-01"))}},
		{"test_traceparent_trace_id_illegal_characters", []step{
			restart(tp("00-.2345678901234567890123456789012-" + spanID + "-01")),
			restart(tp("00-1234567890123456789012345678901.-" + spanID + "-01")),
		}},
		{"test_traceparent_trace_id_too_long", []step{restart(tp("00-123456789012345678901234567890123-" + spanID + "-01"))}},
		{"test_traceparent_trace_id_too_short", []step{restart(tp("00-1234567890123456789012345678901-" + spanID + "-01"))}},
		{"test_traceparent_parent_id_all_zero", []step{restart(tp("00-" + traceID + "-0000000000000000-01"))}},
		{"test_traceparent_parent_id_illegal_characters", []step{
			restart(tp("00-" + traceID + "-.234567890123456-01")),
			restart(tp("00-" + traceID + "-123456789012345.-01")),
		}},
		{"test_traceparent_parent_id_too_long", []step{restart(tp("00-" + traceID + "-12345678901234567-01"))}},
		{"test_traceparent_parent_id_too_short", []step{restart(tp("00-" + traceID + "-123456789012345-01"))}},
		{"test_traceparent_trace_flags_illegal_characters", []step{
			restart(tp("00-" + traceID + "-" + spanID + "-.0")),
			restart(tp("00-" + traceID + "-" + spanID + "-0.")),
		}},
		{"test_traceparent_trace_flags_too_long", []step{restart(tp("00-" + traceID + "-" + spanID + "-001"))}},
		{"test_traceparent_trace_flags_too_short", []step{restart(tp("00-" + traceID + "-" + spanID + "-1"))}},
		{"test_traceparent_ows_handling", []step{
			continues("", tp(" "+tp01)),
			continues("", tp("\t"+tp01)),
			continues("", tp(tp01+" ")),
			continues("", tp(tp01+"\t")),
			continues("", tp("\t "+tp01+" \t")),
		}},
		{"test_tracestate_included_traceparent_missing", []step{
			restart(ts("foo=1")),
			restart(ts("foo=1,bar=2")),
		}},
		{"test_tracestate_included_traceparent_included", []step{continues("foo=1,bar=2", tp(tp00), ts("foo=1,bar=2"))}},
		{"test_tracestate_header_name", []step{
			continues("", tp(tp00), [2]string{"trace-state", "foo=1"}),
			continues("", tp(tp00), [2]string{"trace.state", "foo=1"}),
		}},
		{"test_tracestate_header_name_valid_casing", []step{
			continues("foo=1", tp(tp00), [2]string{"TraceState", "foo=1"}),
			continues("foo=1", tp(tp00), [2]string{"TrAcEsTaTe", "foo=1"}),
			continues("foo=1", tp(tp00), [2]string{"TRACESTATE", "foo=1"}),
		}},
		{"test_tracestate_empty_header", []step{
			continues("", tp(tp00), ts("")),
			continues("foo=1", tp(tp00), ts("foo=1"), ts("")),
			continues("foo=1", tp(tp00), ts(""), ts("foo=1")),
		}},
		{"test_tracestate_multiple_headers_different_keys", []step{
			continues("foo=1,bar=2,rojo=1,congo=2,baz=3", tp(tp00), ts("foo=1,bar=2"), ts("rojo=1,congo=2"), ts("baz=3")),
		}},
		// The suite accepts both keeping duplicates and discarding all but
		// one; the propagator keeps the first (left-most) member of a key.
		{"test_tracestate_duplicated_keys", []step{
			continues("foo=1", tp(tp00), ts("foo=1,foo=1")),
			continues("foo=1", tp(tp00), ts("foo=1,foo=2")),
			continues("foo=1", tp(tp00), ts("foo=1"), ts("foo=1")),
			continues("foo=1", tp(tp00), ts("foo=1"), ts("foo=2")),
		}},
		{"test_tracestate_all_allowed_characters", []step{
			continues(allKeyChars+"="+allValueChars, tp(tp00), ts(allKeyChars+"="+allValueChars)),
			continues(allKeyChars+"@a-z0-9_-*/="+allValueChars, tp(tp00), ts(allKeyChars+"@a-z0-9_-*/="+allValueChars)),
		}},
		{"test_tracestate_ows_handling", []step{
			continues("foo=1,bar=2,baz=3", tp(tp00), ts("foo=1 \t , \t bar=2, \t baz=3")),
			continues("foo=1,bar=2,baz=3", tp(tp00), ts("foo=1\t \t,\t \tbar=2,\t \tbaz=3")),
			continues("foo=1", tp(tp00), ts(" foo=1")),
			continues("foo=1", tp(tp00), ts("\tfoo=1")),
			continues("foo=1", tp(tp00), ts("foo=1 ")),
			continues("foo=1", tp(tp00), ts("foo=1\t")),
			continues("foo=1", tp(tp00), ts("\t foo=1 \t")),
		}},
		{"test_tracestate_key_illegal_characters", []step{
			continues("", tp(tp00), ts("foo =1")),
			continues("", tp(tp00), ts("FOO=1")),
			continues("", tp(tp00), ts("foo.bar=1")),
		}},
		{"test_tracestate_key_illegal_vendor_format", []step{
			continues("foo@=1,bar=2", tp(tp00), ts("foo@=1,bar=2")),
			continues("", tp(tp00), ts("@foo=1,bar=2")),
			continues("foo@@bar=1,bar=2", tp(tp00), ts("foo@@bar=1,bar=2")),
			continues("foo@bar@baz=1,bar=2", tp(tp00), ts("foo@bar@baz=1,bar=2")),
		}},
		{"test_tracestate_member_count_limit", []step{
			continues(bars(1, 32), tp(tp00), ts(bars(1, 10)), ts(bars(11, 20)), ts(bars(21, 30)), ts(bars(31, 32))),
			continues("", tp(tp00), ts(bars(1, 10)), ts(bars(11, 20)), ts(bars(21, 30)), ts(bars(31, 33))),
		}},
		{"test_tracestate_key_length_limit", []step{
			continues("foo=1,"+z256+"=1", tp(tp00), ts("foo=1"), ts(z256+"=1")),
			continues("", tp(tp00), ts("foo=1"), ts(z257+"=1")),
			continues("foo=1,"+t241v14+"=1", tp(tp00), ts("foo=1"), ts(t241v14+"=1")),
			continues("foo=1,"+t242v+"=1", tp(tp00), ts("foo=1"), ts(t242v+"=1")),
			continues("foo=1,"+tv15+"=1", tp(tp00), ts("foo=1"), ts(tv15+"=1")),
		}},
		{"test_tracestate_value_illegal_characters", []step{
			continues("", tp(tp00), ts("foo=bar=baz")),
			continues("", tp(tp00), ts("foo=,bar=3")),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, st := range tt.steps {
				cbs, handle, parent := s.send(t, st.h, 1)
				cb := cbs[0]
				if cb.traceID != handle.TraceID().String() || cb.parentID == handle.SpanID().String() {
					t.Errorf("step %d: callback %s-%s is not of a child of the service's span", i, cb.traceID, cb.parentID)
				}
				if st.restart {
					if parent.IsValid() || cb.traceID == traceID || cb.traceID == other {
						t.Errorf("step %d: trace not restarted: callback trace-id %s, service span parent %v", i, cb.traceID, parent)
					}
				} else if cb.traceID != traceID || cb.parentID == spanID || parent.SpanID().String() != spanID || !parent.IsRemote() {
					t.Errorf("step %d: trace not continued: callback %s-%s, service span parent %v", i, cb.traceID, cb.parentID, parent)
				}
				if cb.state != st.state {
					t.Errorf("step %d: tracestate sent on %q, want %q", i, cb.state, st.state)
				}
			}
		})
	}

	t.Run("test_multiple_requests_with_valid_traceparent", func(t *testing.T) {
		cbs, _, _ := s.send(t, header{tp(tp01)}, 3)
		parents := map[string]bool{}
		for _, cb := range cbs {
			if cb.traceID != traceID {
				t.Errorf("trace-id %s, want %s", cb.traceID, traceID)
			}
			parents[cb.parentID] = true
		}
		if len(parents) != 3 {
			t.Errorf("%d distinct parent-ids, want 3", len(parents))
		}
	})
	t.Run("test_multiple_requests_without_traceparent", func(t *testing.T) {
		cbs, _, _ := s.send(t, nil, 3)
		parents := map[string]bool{}
		for _, cb := range cbs {
			parents[cb.parentID] = true
		}
		if len(parents) != 3 {
			t.Errorf("%d distinct parent-ids, want 3", len(parents))
		}
	})
	t.Run("test_multiple_requests_with_illegal_traceparent", func(t *testing.T) {
		cbs, _, parent := s.send(t, header{tp("00-00000000000000000000000000000000-" + spanID + "-01")}, 3)
		parents := map[string]bool{}
		for _, cb := range cbs {
			if cb.traceID == strings.Repeat("0", 32) {
				t.Error("all-zero trace-id sent on")
			}
			parents[cb.parentID] = true
		}
		if len(parents) != 3 || parent.IsValid() {
			t.Errorf("%d distinct parent-ids, want 3; service span parent %v", len(parents), parent)
		}
	})
	t.Run("test_propagates_random_flag", func(t *testing.T) {
		cbs, _, _ := s.send(t, header{tp("00-" + traceID + "-" + spanID + "-02")}, 1)
		if cb := cbs[0]; cb.traceID != traceID || cb.parentID == spanID || cb.flags&0x02 == 0 {
			t.Errorf("callback %s-%s-%02x, want trace-id %s, a new parent-id and the random flag", cb.traceID, cb.parentID, cb.flags, traceID)
		}
	})
}
