package main

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

// otlpSpan is one span as an OTLP receiver got it, ids in hex.
type otlpSpan struct {
	Service, Name           string
	TraceID, SpanID, Parent string
}

// otlpLog is one log record as an OTLP receiver got it, ids in hex.
type otlpLog struct {
	Service, Body   string
	TraceID, SpanID string
}

// otlpReceiver is an OTLP/HTTP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT=URL,
// OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf) that keeps the spans and log
// records it gets; metrics are accepted and dropped.
type otlpReceiver struct {
	URL string

	mu    sync.Mutex
	spans []otlpSpan
	logs  []otlpLog
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
		switch req.URL.Path {
		case "/v1/metrics":
			return
		case "/v1/logs":
			var msg collogs.ExportLogsServiceRequest
			if proto.Unmarshal(body, &msg) != nil {
				http.Error(w, "bad export", http.StatusBadRequest)
				return
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			for _, rl := range msg.ResourceLogs {
				service := serviceName(rl.GetResource().GetAttributes())
				for _, sl := range rl.ScopeLogs {
					for _, l := range sl.LogRecords {
						r.logs = append(r.logs, otlpLog{Service: service, Body: l.GetBody().GetStringValue(),
							TraceID: hex.EncodeToString(l.TraceId), SpanID: hex.EncodeToString(l.SpanId)})
					}
				}
			}
			return
		}
		var msg coltrace.ExportTraceServiceRequest
		if req.URL.Path != "/v1/traces" || proto.Unmarshal(body, &msg) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, rs := range msg.ResourceSpans {
			service := serviceName(rs.GetResource().GetAttributes())
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					r.spans = append(r.spans, otlpSpan{Service: service, Name: s.Name, TraceID: hex.EncodeToString(s.TraceId),
						SpanID: hex.EncodeToString(s.SpanId), Parent: hex.EncodeToString(s.ParentSpanId)})
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func serviceName(attrs []*common.KeyValue) string {
	for _, kv := range attrs {
		if kv.GetKey() == "service.name" {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

// Logs returns every log record received so far.
func (r *otlpReceiver) Logs() []otlpLog {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.logs)
}

// Spans returns every span received so far.
func (r *otlpReceiver) Spans() []otlpSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.spans)
}

// Trace returns the spans of one trace.
func (r *otlpReceiver) Trace(id string) []otlpSpan {
	return slices.DeleteFunc(r.Spans(), func(s otlpSpan) bool { return s.TraceID != id })
}

// crossings returns the "parent service → child service" pairs of a trace's
// spans whose parent was made by another service, and the spans whose
// parent is not in the trace.
func crossings(spans []otlpSpan) (edges map[string]bool, orphans []otlpSpan) {
	byID := map[string]otlpSpan{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	edges = map[string]bool{}
	for _, s := range spans {
		if s.Parent == "" {
			continue
		}
		p, ok := byID[s.Parent]
		switch {
		case !ok:
			orphans = append(orphans, s)
		case p.Service != s.Service:
			edges[p.Service+" → "+s.Service] = true
		}
	}
	return edges, orphans
}
