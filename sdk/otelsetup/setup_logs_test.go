package otelsetup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	lognoop "go.opentelemetry.io/otel/log/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"

	"github.com/otelkit/otelkit/logcorr"
	"github.com/otelkit/otelkit/sdk/otelsetup"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

// serviceLogs is one service's log records as an OTLP receiver got them.
type serviceLogs map[string][]*logspb.LogRecord

func logsByService(rls []*logspb.ResourceLogs) serviceLogs {
	out := serviceLogs{}
	for _, rl := range rls {
		name := ""
		for _, kv := range rl.GetResource().GetAttributes() {
			if kv.Key == "service.name" {
				name = kv.GetValue().GetStringValue()
			}
		}
		for _, sl := range rl.ScopeLogs {
			out[name] = append(out[name], sl.LogRecords...)
		}
	}
	return out
}

func logAttrs(r *logspb.LogRecord) map[string]*commonpb.AnyValue {
	m := map[string]*commonpb.AnyValue{}
	for _, kv := range r.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

func spanAttr(rcv *receiver, key string) string {
	for _, rs := range rcv.ResourceSpans() {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				for _, kv := range s.Attributes {
					if kv.Key == key {
						return kv.GetValue().GetStringValue()
					}
				}
			}
		}
	}
	return ""
}

// Two services in one process, each with its own Setup and logger, log
// inside a span while the standard variables point at an OTLP receiver
// (http/protobuf or gRPC): each record arrives under its service's service.name, carrying
// the span's trace and span ids, severity, body, business context, with
// user.id hashed as on the span and the secret masked as in the line.
func TestSetup_LogRecordsReachTheCollectorOnTheirSpan(t *testing.T) {
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(protocol, func(t *testing.T) { testLogRecordsReachTheCollector(t, protocol) })
	}
}

func testLogRecordsReachTheCollector(t *testing.T, protocol string) {
	noLeaks(t)
	rcv := startReceiver(t, protocol)
	setenv(t, "OTEL_EXPORTER_OTLP_ENDPOINT", rcv.Endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL", protocol,
		"OTEL_EXPORTER_OTLP_INSECURE", "true", "OTEL_METRICS_EXPORTER", "none")
	tracing.SetHashKey([]byte("a key of at least sixteen bytes"))
	t.Cleanup(func() { tracing.SetHashKey(nil) })

	type service struct {
		p        otelsetup.Providers
		shutdown func(context.Context) error
		stdout   bytes.Buffer
		log      *slog.Logger
		span     trace.SpanContext
	}
	svcs := map[string]*service{"orders": {}, "payments": {}}
	for name, s := range svcs {
		var err error
		// The example's default: without an endpoint, no log export.
		s.shutdown, err = otelsetup.Setup(context.Background(), otelsetup.WithServiceName(name),
			otelsetup.WithDefaultLogsExporter("none"), otelsetup.WithoutGlobals(&s.p))
		if err != nil {
			t.Fatal(err)
		}
		s.log = logcorr.NewLogger(&s.stdout, logcorr.WithLoggerProvider(s.p.LoggerProvider), logcorr.WithBusiness())
	}
	const token = "Bearer abcdefghijklmnopqrstuvwxyz0123456789"
	for name, s := range svcs {
		ctx, span := s.p.TracerProvider.Tracer("t").Start(context.Background(), name+".handle")
		ctx = tracing.SetBusiness(ctx, tracing.TenantID.String("acme"))
		span.SetAttributes(attribute.String("user.id", "u-42"))
		s.log.With("component", name).WarnContext(ctx, "charge retried", "user.id", "u-42", "authorization", token, "attempt", 2)
		s.span = span.SpanContext()
		span.End()
	}
	for _, s := range svcs {
		if err := s.shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	got := logsByService(rcv.ResourceLogs())
	hashed := spanAttr(rcv, "user.id")
	if !strings.HasPrefix(hashed, "sha256:") {
		t.Fatalf("span user.id %q, want it hashed", hashed)
	}
	for name, s := range svcs {
		if len(got[name]) != 1 {
			t.Fatalf("%s: the collector got %d records, want 1 (all: %v)", name, len(got[name]), got)
		}
		r := got[name][0]
		tid, sid := s.span.TraceID(), s.span.SpanID()
		if !bytes.Equal(r.TraceId, tid[:]) || !bytes.Equal(r.SpanId, sid[:]) || r.Flags&0xff != 1 {
			t.Errorf("%s: record ids %x/%x flags %x, want %s/%s sampled", name, r.TraceId, r.SpanId, r.Flags, tid, sid)
		}
		if r.SeverityNumber != logspb.SeverityNumber_SEVERITY_NUMBER_WARN || r.SeverityText != "WARN" || r.Body.GetStringValue() != "charge retried" {
			t.Errorf("%s: severity %v %q body %v", name, r.SeverityNumber, r.SeverityText, r.Body)
		}
		var line map[string]any
		if err := json.Unmarshal(s.stdout.Bytes(), &line); err != nil {
			t.Fatalf("%s: stdout %q: %v", name, s.stdout.Bytes(), err)
		}
		a := logAttrs(r)
		want := map[string]string{"component": name, "tenant.id": "acme", "user.id": hashed, "authorization": line["authorization"].(string)}
		for k, v := range want {
			if a[k].GetStringValue() != v {
				t.Errorf("%s: attribute %s = %v, want %q", name, k, a[k], v)
			}
		}
		if a["attempt"].GetIntValue() != 2 || len(a) != 5 {
			t.Errorf("%s: attributes %v, want attempt=2 and the four above only (no id fields)", name, a)
		}
		if line["user.id"] != hashed || strings.Contains(line["authorization"].(string), "abcdefghijklmnop") {
			t.Errorf("%s: line %v: want user.id %s and the token masked", name, line, hashed)
		}
	}
}

// Every log variable Setup cannot use is a ConfigError naming it.
func TestSetup_LogVariablesRefused(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"OTEL_LOGS_EXPORTER", "otlp,kafka"},
		{"OTEL_BLRP_SCHEDULE_DELAY", "0"},
		{"OTEL_BLRP_SCHEDULE_DELAY", "1s"},
		{"OTEL_BLRP_EXPORT_TIMEOUT", "-1"},
		{"OTEL_BLRP_MAX_QUEUE_SIZE", "lots"},
		{"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "0"},
		{"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json"},
		{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "collector:4318"},
		{"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "ten"},
		{"OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "zstd"},
		{"OTEL_EXPORTER_OTLP_LOGS_INSECURE", "yes"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none", tc.name, tc.value)
			var p otelsetup.Providers
			_, err := otelsetup.Setup(context.Background(), otelsetup.WithoutGlobals(&p))
			var ce *otelsetup.ConfigError
			if !errors.As(err, &ce) || ce.Variable != tc.name || ce.Value != tc.value {
				t.Fatalf("Setup: %v, want a ConfigError naming %s=%q", err, tc.name, tc.value)
			}
		})
	}
	t.Run("OTEL_EXPORTER_OTLP_LOGS_HEADERS", func(t *testing.T) {
		setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none",
			"OTEL_EXPORTER_OTLP_LOGS_HEADERS", "api-key")
		_, err := otelsetup.Setup(context.Background(), otelsetup.WithoutGlobals(&otelsetup.Providers{}))
		var ce *otelsetup.ConfigError
		if !errors.As(err, &ce) || ce.Variable != "OTEL_EXPORTER_OTLP_LOGS_HEADERS" || ce.Value != "<redacted>" {
			t.Fatalf("Setup: %v, want a ConfigError naming the variable, value redacted", err)
		}
	})
}

// Which log exporter Setup picks: the variable, else OTLP when an endpoint
// is set, else WithDefaultLogsExporter, else OTLP; the logs endpoint wins
// over the generic one; OTEL_SDK_DISABLED gives the no-op provider.
func TestSetup_LogsExporterPrecedence(t *testing.T) {
	generic, logs := startReceiver(t, "http/protobuf"), startReceiver(t, "http/protobuf")
	for _, tc := range []struct {
		name    string
		env     []string
		def     []string
		sdk     bool      // an SDK provider rather than the no-op one
		arrives *receiver // where a record goes, if anywhere checked
	}{
		{"nothing set: otlp", nil, nil, true, nil},
		{"option none", nil, []string{"none"}, false, nil},
		{"option console", nil, []string{"console"}, true, nil},
		{"generic endpoint beats the option", []string{"OTEL_EXPORTER_OTLP_ENDPOINT", generic.Endpoint}, []string{"none"}, true, generic},
		{"logs endpoint beats the generic one", []string{"OTEL_EXPORTER_OTLP_ENDPOINT", generic.Endpoint,
			"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", logs.Endpoint + "/v1/logs"}, []string{"none"}, true, logs},
		{"variable beats the endpoint", []string{"OTEL_EXPORTER_OTLP_ENDPOINT", generic.Endpoint, "OTEL_LOGS_EXPORTER", "none"}, nil, false, nil},
		{"variable beats the option", []string{"OTEL_LOGS_EXPORTER", "console"}, []string{"none"}, true, nil},
		{"SDK disabled", []string{"OTEL_EXPORTER_OTLP_ENDPOINT", generic.Endpoint, "OTEL_SDK_DISABLED", "true"}, nil, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setenv(t, append([]string{"OTEL_SERVICE_NAME", tc.name, "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none"}, tc.env...)...)
			var p otelsetup.Providers
			shutdown, err := otelsetup.Setup(context.Background(), otelsetup.WithDefaultLogsExporter(tc.def...), otelsetup.WithoutGlobals(&p))
			if err != nil {
				t.Fatal(err)
			}
			_, isSDK := p.LoggerProvider.(*sdklog.LoggerProvider)
			_, isNoop := p.LoggerProvider.(lognoop.LoggerProvider)
			if isSDK != tc.sdk || isNoop == tc.sdk {
				t.Errorf("LoggerProvider %T, want SDK %v", p.LoggerProvider, tc.sdk)
			}
			if tc.arrives == nil || !tc.sdk {
				_ = shutdown(context.Background())
				return
			}
			logcorr.NewLogger(&bytes.Buffer{}, logcorr.WithLoggerProvider(p.LoggerProvider)).Info("hello")
			if err := shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, r := range []*receiver{generic, logs} {
				n := len(logsByService(r.ResourceLogs())[tc.name])
				if want := map[bool]int{true: 1}[r == tc.arrives]; n != want {
					t.Errorf("receiver %s got %d records, want %d", r.Endpoint, n, want)
				}
			}
		})
	}
}

// A logs collector that never answers, or answers 503, neither blocks a
// logging call nor holds shutdown beyond OTEL_BSP_EXPORT_TIMEOUT: the
// records beyond OTEL_BLRP_MAX_QUEUE_SIZE are dropped and reported with
// their count, and the shutdown error counts the queued ones not exported,
// naming the endpoint and what the collector answered.
func TestSetup_BadLogsCollectorNeverBlocksAndShutdownCounts(t *testing.T) {
	for _, tc := range []struct {
		hung bool
		why  string
	}{
		{true, "no answer before the deadline"},
		{false, "HTTP 503 Service Unavailable"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			noLeaks(t)
			reported := captureHandle(t)
			var col *tracingtest.Collector
			if tc.hung {
				col = tracingtest.NewHungCollector(t)
			} else {
				col = tracingtest.NewFailingCollector(t, http.StatusServiceUnavailable)
			}
			setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_EXPORTER_OTLP_ENDPOINT", col.Endpoint,
				"OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none",
				"OTEL_BSP_EXPORT_TIMEOUT", "200", "OTEL_BLRP_MAX_QUEUE_SIZE", "4", "OTEL_BLRP_SCHEDULE_DELAY", "3600000")
			var p otelsetup.Providers
			shutdown, err := otelsetup.Setup(context.Background(), otelsetup.WithoutGlobals(&p))
			if err != nil {
				t.Fatal(err)
			}
			logger := logcorr.NewLogger(&bytes.Buffer{}, logcorr.WithLoggerProvider(p.LoggerProvider))
			for i := range 10 {
				logger.Info("order accepted", "i", i) // returns: the queue is bounded
			}
			end := logsEndpoint(col.Endpoint)
			reported.await(t, "otlp log export to "+end, "log records dropped from a full queue")

			err = shutdownWithin(t, context.Background(), shutdown)
			var ee *otelsetup.ExportError
			if !errors.As(err, &ee) {
				t.Fatalf("shutdown returned %v, want an *ExportError", err)
			}
			if ee.LogRecords != 4 || ee.Spans != 0 || ee.Exporter != "otlp" || ee.Endpoint != end {
				t.Errorf("ExportError %+v, want 4 log records of otlp to %s", ee, end)
			}
			if want := "otlp log export: 4 log records not exported to " + end + ": " + tc.why; !strings.Contains(err.Error(), want) {
				t.Errorf("shutdown error %q does not contain %q", err, want)
			}
			if dropped := sumDropped(reported.all()); dropped != 6 {
				t.Errorf("reports count %d records dropped from the full queue, want 6: %v", dropped, reported.all())
			}
		})
	}
}

func logsEndpoint(base string) string { return base + "/v1/logs" }

// sumDropped sums the records the reports say were dropped from a full
// queue.
func sumDropped(errs []error) int {
	total := 0
	for _, err := range errs {
		var n int
		msg := err.Error()
		if i := strings.Index(msg, " log records dropped from a full queue"); i >= 0 {
			j := strings.LastIndexByte(msg[:i], ' ')
			for _, c := range msg[j+1 : i] {
				n = n*10 + int(c-'0')
			}
		}
		total += n
	}
	return total
}
