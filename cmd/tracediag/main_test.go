package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	now := func() time.Time { return time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC) }
	code := run(context.Background(), args, &out, &errb, now)
	return code, out.String(), errb.String()
}

type jsonReport struct {
	Traces []struct {
		TraceID  string `json:"trace_id"`
		Root     struct{ Span, Service string }
		Duration int64
		Findings []struct {
			Kind, Span, Service, Summary string
			SpanID                       string `json:"span_id"`
			Fields                       map[string]any
		}
		CriticalPath []struct {
			Span, Service string
			Share         float64
		} `json:"critical_path"`
	}
	Differences []struct {
		Service, Span, Outcome, Key, Value string
		Bad                                int
		BadWith                            int `json:"bad_with"`
		Good                               int
		GoodWith                           int `json:"good_with"`
	}
}

func decodeReport(t *testing.T, s string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	return r
}

// Spans of kotel (names "orders publish"/"orders process") in the
// Collector's file format: the order on partition 5 was never processed.
func TestRun_OTLPFileFindsLostMessageAndComparesPartitions(t *testing.T) {
	code, out, errs := runArgs(t, "-json", "testdata/kotel.jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	r := decodeReport(t, out)
	if len(r.Traces) != 4 {
		t.Fatalf("%d traces, want 4", len(r.Traces))
	}
	for _, tr := range r.Traces {
		lost := tr.TraceID == "4bf92f3577b34da6a3ce929d0e0e4702"
		if !lost {
			if len(tr.Findings) != 0 {
				t.Errorf("trace %s: findings %+v", tr.TraceID, tr.Findings)
			}
			continue
		}
		if len(tr.Findings) != 1 {
			t.Fatalf("lost trace: findings %+v", tr.Findings)
		}
		f := tr.Findings[0]
		if f.Kind != "lost-message" || f.Span != "orders publish" || f.Service != "api" || f.SpanID != "00f067aa0ba90212" ||
			f.Fields["messaging.destination.partition.id"] != "5" {
			t.Errorf("finding %+v", f)
		}
		if tr.Root.Span != "POST /orders" || tr.Duration != int64(20*time.Millisecond) {
			t.Errorf("root %+v, duration %d", tr.Root, tr.Duration)
		}
	}
	if len(r.Differences) != 1 {
		t.Fatalf("differences %+v", r.Differences)
	}
	d := r.Differences[0]
	if d.Span != "orders publish" || d.Outcome != "lost" || d.Key != "messaging.destination.partition.id" || d.Value != "5" ||
		d.Bad != 1 || d.BadWith != 1 || d.Good != 3 || d.GoodWith != 0 {
		t.Errorf("difference %+v", d)
	}
}

func TestRun_TextShowsWaterfallDiagnosisAndComparison(t *testing.T) {
	code, out, _ := runArgs(t, "-width", "100", "testdata/kotel.jsonl")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"trace 4bf92f3577b34da6a3ce929d0e0e4702  POST /orders  20ms  2 spans\n⚑ lost-message: api orders publish: the message sent to orders partition 5 was never processed",
		"warehouse    └─ orders process",
		"critical path (42ms): api POST /orders 11% → (waited 23ms) warehouse orders process 28%",
		"comparison of 4 traces:\n  api orders publish: messaging.destination.partition.id=5 in 100% of lost (1/1), 0% of the others (0/3)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// A Jaeger v2 query service, answering with a recorded api/v3 response.
func jaegerServer(t *testing.T) *httptest.Server {
	t.Helper()
	recorded, err := os.ReadFile("testdata/jaeger_trace.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v3/traces/5b8efff798038103d269b633813fc60c":
		case r.URL.Path == "/api/v3/traces":
			q := r.URL.Query()
			if q.Get("query.service_name") != "orders" || q.Get("query.operation_name") != "POST /orders" ||
				q.Get("query.start_time_min") != "2026-01-02T03:30:00Z" || q.Get("query.start_time_max") != "2026-01-02T04:00:00Z" ||
				q.Get("query.num_traces") != "5" {
				http.Error(w, `{"error":{"httpCode":400,"message":"bad query `+r.URL.RawQuery+`"}}`, http.StatusBadRequest)
				return
			}
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"httpCode":404,"message":"trace not found"}}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(recorded)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func checkRetryTrace(t *testing.T, out string) {
	t.Helper()
	r := decodeReport(t, out)
	if len(r.Traces) != 1 {
		t.Fatalf("%d traces", len(r.Traces))
	}
	got := map[string]string{}
	for _, f := range r.Traces[0].Findings {
		got[f.Kind] = f.Service + " " + f.Span
		if f.Kind == "retry-storm" && (f.Fields["attempts"] != 3.0 || f.Fields["timeouts"] != 3.0) {
			t.Errorf("retry storm fields %v", f.Fields)
		}
	}
	want := map[string]string{
		"error-origin":  "orders HTTP POST",
		"retry-storm":   "orders POST /orders",
		"timeout-chain": "inventory POST /stock/validate",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s on %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func TestRun_JaegerTraceByID(t *testing.T) {
	srv := jaegerServer(t)
	code, out, errs := runArgs(t, "-json", "-jaeger", srv.URL, "5b8efff798038103d269b633813fc60c")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	checkRetryTrace(t, out)

	code, _, errs = runArgs(t, "-jaeger", srv.URL, "00000000000000000000000000000001")
	if code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("unknown trace: exit %d, %q", code, errs)
	}
}

func TestRun_JaegerSearch(t *testing.T) {
	srv := jaegerServer(t)
	code, out, errs := runArgs(t, "-json", "-jaeger", srv.URL+"/", "-service", "orders", "-operation", "POST /orders", "-since", "30m", "-limit", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	checkRetryTrace(t, out)
	code, _, errs = runArgs(t, "-jaeger", srv.URL, "-service", "payments")
	if code != 1 || !strings.Contains(errs, "400 Bad Request") {
		t.Errorf("rejected search: exit %d, %q", code, errs)
	}
	// Jaeger answers 404 when no trace matches.
	code, _, errs = runArgs(t, "-jaeger", srv.URL+"/nothing", "-service", "orders")
	if code != 1 || !strings.Contains(errs, `no trace of service "orders" in the last 1h0m0s`) {
		t.Errorf("empty search: exit %d, %q", code, errs)
	}
}

func TestRun_FailFlagForCI(t *testing.T) {
	if code, _, _ := runArgs(t, "-fail", "testdata/kotel.jsonl"); code != 2 {
		t.Errorf("-fail with a finding: exit %d, want 2", code)
	}
	data, _ := os.ReadFile("testdata/kotel.jsonl")
	healthy := filepath.Join(t.TempDir(), "healthy.jsonl")
	lines := strings.SplitAfter(string(data), "\n")
	_ = os.WriteFile(healthy, []byte(lines[0]+lines[1]), 0o600)
	if code, out, errs := runArgs(t, "-fail", healthy); code != 0 || !strings.Contains(out, "no finding") {
		t.Errorf("-fail on a healthy trace: exit %d %s %s", code, out, errs)
	}
}

// A truncated, malformed or hostile file is an error (exit 1) that names
// the line, never a panic.
func TestRun_BadInputIsAnError(t *testing.T) {
	data, _ := os.ReadFile("testdata/kotel.jsonl")
	dir := t.TempDir()
	for name, content := range map[string]string{
		"truncated": string(data[:len(data)/3]),
		"not json":  "hello\n",
		"bad id":    `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz","spanId":"00f067aa0ba90201"}]}]}]}` + "\n",
		"short id":  `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abcd","spanId":"00f067aa0ba90201"}]}]}]}` + "\n",
		"bad time":  `{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"-1"}]}]}]}` + "\n",
		"deep":      strings.Repeat("[", 20000) + "\n",
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		_ = os.WriteFile(path, []byte(content), 0o600)
		code, _, errs := runArgs(t, path)
		if code != 1 || !strings.Contains(errs, "line ") {
			t.Errorf("%s: exit %d, %q", name, code, errs)
		}
	}
	if code, _, errs := runArgs(t, filepath.Join(dir, "missing")); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("missing file: exit %d, %q", code, errs)
	}
}

// An indented document, such as a saved answer of Jaeger's API, is read
// whole.
func TestRun_IndentedDocument(t *testing.T) {
	code, out, errs := runArgs(t, "-json", "testdata/jaeger_trace.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	checkRetryTrace(t, out)
}
