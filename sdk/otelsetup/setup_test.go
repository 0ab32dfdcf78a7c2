package otelsetup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	lognoop "go.opentelemetry.io/otel/log/noop"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"go.uber.org/goleak"

	"github.com/otelkit/otelkit/sdk/otelsetup"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/sdk/waterfall"
	"github.com/otelkit/otelkit/tracing"
)

// setenv clears every OTEL_* and OTELKIT_* variable for the test, then
// sets kv pairs.
func setenv(t *testing.T, kv ...string) {
	t.Helper()
	for _, e := range os.Environ() {
		if k, _, _ := strings.Cut(e, "="); strings.HasPrefix(k, "OTEL_") || strings.HasPrefix(k, "OTELKIT_") {
			t.Setenv(k, "")
		}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

// noLeaks checks, when the test and its cleanups are done, that no goroutine
// it started is left.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// keepGlobals restores the otel globals Setup replaces. The SDK's initial
// globals cannot be set back (the library logs when one tries), so they are
// replaced by their no-op equivalents.
func keepGlobals(t *testing.T) {
	tp, mp, prop, eh := otel.GetTracerProvider(), otel.GetMeterProvider(), otel.GetTextMapPropagator(), otel.GetErrorHandler()
	lp := otel.GetLoggerProvider()
	initial := func(v any) bool { return strings.HasPrefix(fmt.Sprintf("%T", v), "*global.") }
	t.Cleanup(func() {
		if initial(tp) {
			tp = tracenoop.NewTracerProvider()
		}
		if initial(mp) {
			mp = metricnoop.NewMeterProvider()
		}
		if initial(prop) {
			prop = propagation.NewCompositeTextMapPropagator()
		}
		if initial(lp) {
			lp = lognoop.NewLoggerProvider()
		}
		if initial(eh) {
			eh = otel.ErrorHandlerFunc(func(err error) { log.Print(err) })
		}
		otel.SetTracerProvider(tp)
		otel.SetMeterProvider(mp)
		otel.SetTextMapPropagator(prop)
		otel.SetErrorHandler(eh)
		otel.SetLoggerProvider(lp)
	})
}

func setup(t *testing.T, opts ...otelsetup.Option) (otelsetup.Providers, func() error) {
	t.Helper()
	var p otelsetup.Providers
	shutdown, err := otelsetup.Setup(context.Background(), append(opts, otelsetup.WithoutGlobals(&p))...)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	done := false
	t.Cleanup(func() {
		if !done {
			_ = shutdown(context.Background())
		}
	})
	return p, func() error { done = true; return shutdown(context.Background()) }
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.Key] = "int"
		default:
			out[kv.Key] = "?"
		}
	}
	return out
}

const rawSecret = "sk_live_abcdefghijklmnop1234"

func TestSetup_ExportsOTLPToACollector(t *testing.T) {
	for _, protocol := range []string{"grpc", "http/protobuf"} {
		t.Run(protocol, func(t *testing.T) {
			noLeaks(t)
			rcv := startReceiver(t, protocol)
			setenv(t,
				"OTEL_SERVICE_NAME", "orders",
				"OTEL_EXPORTER_OTLP_PROTOCOL", protocol,
				"OTEL_EXPORTER_OTLP_ENDPOINT", rcv.Endpoint,
				"OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cr%20t, x-tenant=acme",
				"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip",
				"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test,service.version=1.2.3",
			)
			p, shutdown := setup(t, otelsetup.WithServiceName("overridden-by-env"), otelsetup.WithServiceNamespace("shop"), otelsetup.WithServiceVersion("0.0.1"))

			ctx, parent := p.TracerProvider.Tracer("test").Start(context.Background(), "orders.create",
				trace.WithAttributes(attribute.Int("order.item_count", 3), attribute.String("payment.api_token", rawSecret)))
			_, child := p.TracerProvider.Tracer("test").Start(ctx, "orders.insert")
			child.End()
			parent.End()
			counter, err := p.MeterProvider.Meter("test").Int64Counter("orders.created")
			if err != nil {
				t.Fatal(err)
			}
			counter.Add(ctx, 2)
			if err := shutdown(); err != nil {
				t.Fatalf("shutdown: %v", err)
			}

			rss := rcv.ResourceSpans()
			if len(rss) != 1 {
				t.Fatalf("want spans of 1 resource, got %d", len(rss))
			}
			res := attrs(rss[0].Resource.Attributes)
			for k, want := range map[string]string{
				"service.name":                "orders", // OTEL_SERVICE_NAME beats the option
				"service.namespace":           "shop",
				"service.version":             "1.2.3", // OTEL_RESOURCE_ATTRIBUTES beats the option
				"deployment.environment.name": "test",
				"telemetry.sdk.language":      "go",
				"process.runtime.name":        "go",
			} {
				if res[k] != want {
					t.Errorf("resource %s = %q, want %q", k, res[k], want)
				}
			}
			for _, k := range []string{"host.name", "process.pid", "os.type"} {
				if _, ok := res[k]; !ok {
					t.Errorf("resource has no %s: %v", k, res)
				}
			}

			var spans []string
			byName := map[string][]byte{}
			parents := map[string][]byte{}
			for _, ss := range rss[0].ScopeSpans {
				for _, s := range ss.Spans {
					spans = append(spans, s.Name)
					byName[s.Name] = s.SpanId
					parents[s.Name] = s.ParentSpanId
					if s.Name == "orders.create" && attrs(s.Attributes)["order.item_count"] != "int" {
						t.Errorf("orders.create attributes: %v", s.Attributes)
					}
					// The conventions' redaction wraps the OTLP exporter.
					if got, ok := attrs(s.Attributes)["payment.api_token"]; s.Name == "orders.create" && (!ok || got == rawSecret || strings.Contains(got, "abcdefghijklmnop")) {
						t.Errorf("secret exported in clear: %q", got)
					}
				}
			}
			slices.Sort(spans)
			if !slices.Equal(spans, []string{"orders.create", "orders.insert"}) {
				t.Fatalf("spans %v", spans)
			}
			if !bytes.Equal(parents["orders.insert"], byName["orders.create"]) || len(parents["orders.create"]) != 0 {
				t.Errorf("orders.insert is not the child of the root orders.create")
			}

			rms := rcv.ResourceMetrics()
			found := false
			for _, rm := range rms {
				for _, sm := range rm.ScopeMetrics {
					for _, m := range sm.Metrics {
						if m.Name == "orders.created" && m.GetSum().GetDataPoints()[0].GetAsInt() == 2 {
							found = true
						}
					}
				}
			}
			if !found {
				t.Errorf("metric orders.created=2 not received: %v", rms)
			}

			for _, h := range rcv.Headers() {
				if h["Api-Key"] != "s3cr t" || h["X-Tenant"] != "acme" {
					t.Errorf("request headers %v lack OTEL_EXPORTER_OTLP_HEADERS", h)
				}
				if protocol == "http/protobuf" && h["Content-Encoding"] != "gzip" {
					t.Errorf("http request not gzip-compressed: %v", h)
				}
			}
		})
	}
}

func TestSetup_Sampler(t *testing.T) {
	sampledParent := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, Remote: true,
	}))
	unsampledParent := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{2}, SpanID: trace.SpanID{2}, Remote: true,
	}))
	for _, tc := range []struct {
		name                  string
		env                   []string
		opt                   sdktrace.Sampler
		root, sampled, unsamp bool // sampled?: a root, a child of a sampled and of an unsampled remote parent
	}{
		{"default parentbased_always_on", nil, nil, true, true, false},
		{"always_on", []string{"OTEL_TRACES_SAMPLER", "always_on"}, nil, true, true, true},
		{"always_off", []string{"OTEL_TRACES_SAMPLER", "always_off"}, nil, false, false, false},
		{"traceidratio 0", []string{"OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "0"}, nil, false, false, false},
		{"traceidratio without arg", []string{"OTEL_TRACES_SAMPLER", "traceidratio"}, nil, true, true, true},
		{"parentbased_always_off", []string{"OTEL_TRACES_SAMPLER", "parentbased_always_off"}, nil, false, true, false},
		{"parentbased_traceidratio 1", []string{"OTEL_TRACES_SAMPLER", "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG", "1"}, nil, true, true, false},
		{"option used when variable unset", nil, sdktrace.NeverSample(), false, false, false},
		{"variable beats option", []string{"OTEL_TRACES_SAMPLER", "Always_On"}, sdktrace.NeverSample(), true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setenv(t, append([]string{"OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none"}, tc.env...)...)
			p, _ := setup(t, otelsetup.WithServiceName("svc"), otelsetup.WithSampler(tc.opt))
			tr := p.TracerProvider.Tracer("test")
			for _, c := range []struct {
				ctx  context.Context
				want bool
				what string
			}{{context.Background(), tc.root, "root"}, {sampledParent, tc.sampled, "child of sampled"}, {unsampledParent, tc.unsamp, "child of unsampled"}} {
				_, s := tr.Start(c.ctx, "op")
				if got := s.SpanContext().IsSampled(); got != c.want {
					t.Errorf("%s: sampled = %v, want %v", c.what, got, c.want)
				}
				s.End()
			}
		})
	}
}

func TestSetup_ChoosesExporters(t *testing.T) {
	for _, tc := range []struct {
		name          string
		variable      string // OTEL_TRACES_EXPORTER
		endpoint      bool   // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set
		defaults      []string
		otlp, printed bool
	}{
		{"variable otlp", "otlp", true, nil, true, false},
		{"variable waterfall beats endpoint", "waterfall", true, nil, false, true},
		{"variable list", "otlp, waterfall", true, nil, true, true},
		{"variable none beats default", "none", true, []string{"waterfall"}, false, false},
		{"default waterfall", "", false, []string{"waterfall"}, false, true},
		{"endpoint beats default", "", true, []string{"waterfall"}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			rcv := startReceiver(t, "http/protobuf")
			setenv(t, "OTEL_SERVICE_NAME", "gateway", "OTEL_METRICS_EXPORTER", "none", "OTEL_TRACES_EXPORTER", tc.variable)
			if tc.endpoint {
				t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", rcv.Endpoint+"/v1/traces")
			}
			var out bytes.Buffer
			p, shutdown := setup(t, otelsetup.WithDefaultTracesExporter(tc.defaults...),
				otelsetup.WithWaterfall(&out, waterfall.WithColor(false), waterfall.WithWidth(100)))
			_, s := p.TracerProvider.Tracer("test").Start(context.Background(), "checkout.place_order")
			s.End()
			if err := shutdown(); err != nil {
				t.Fatal(err)
			}
			if got := len(rcv.ResourceSpans()) > 0; got != tc.otlp {
				t.Errorf("exported over OTLP = %v, want %v", got, tc.otlp)
			}
			if got := strings.Contains(out.String(), "checkout.place_order"); got != tc.printed {
				t.Errorf("printed as a waterfall = %v, want %v:\n%s", got, tc.printed, out.String())
			}
		})
	}
}

// Two services set up in one process print one waterfall per trace.
func TestSetup_WaterfallSharedByServicesOfOneProcess(t *testing.T) {
	noLeaks(t)
	setenv(t, "OTEL_TRACES_EXPORTER", "waterfall", "OTEL_METRICS_EXPORTER", "none")
	var out bytes.Buffer
	opts := []otelsetup.Option{otelsetup.WithWaterfall(&out, waterfall.WithColor(false), waterfall.WithWidth(100), waterfall.WithLinger(time.Hour))}
	gw, shutdownGW := setup(t, append(opts, otelsetup.WithServiceName("gateway"))...)
	orders, shutdownOrders := setup(t, append(opts, otelsetup.WithServiceName("orders"))...)

	ctx, root := gw.TracerProvider.Tracer("t").Start(context.Background(), "POST /checkout")
	carrier := propagation.MapCarrier{}
	gw.Propagator.Inject(ctx, carrier)
	_, server := orders.TracerProvider.Tracer("t").Start(orders.Propagator.Extract(context.Background(), carrier), "POST /orders")
	server.End()
	root.End()

	if err := shutdownOrders(); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Fatalf("first shutdown printed a trace still shared:\n%s", out.String())
	}
	if err := shutdownGW(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Count(got, "trace ") != 1 || !strings.Contains(got, "gateway") || !strings.Contains(got, "└─ POST /orders") {
		t.Errorf("want one waterfall with both services:\n%s", got)
	}
}

func TestSetup_Propagators(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  []string
	}{
		{"", []string{"baggage", "traceparent", "tracestate"}},
		{"tracecontext", []string{"traceparent", "tracestate"}},
		{"b3, baggage", []string{"b3", "baggage"}},
		{"tracecontext,none", nil},
	} {
		t.Run(tc.value, func(t *testing.T) {
			setenv(t, "OTEL_PROPAGATORS", tc.value, "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none")
			p, _ := setup(t, otelsetup.WithServiceName("svc"))
			got := p.Propagator.Fields()
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("fields %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSetup_InstallsGlobalsByDefault(t *testing.T) {
	keepGlobals(t)
	setenv(t, "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none")
	shutdown, err := otelsetup.Setup(context.Background(), otelsetup.WithServiceName("svc"))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())
	ctx, s := otel.Tracer("t").Start(context.Background(), "op")
	defer s.End()
	if !s.IsRecording() {
		t.Error("global tracer provider not installed")
	}
	carrier := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, carrier)
	if carrier["traceparent"] == "" {
		t.Error("global propagator does not write traceparent")
	}
}

// Without a metrics exporter the meter provider is the no-op one, and with
// one it is the SDK's.
func TestSetup_MetricsNoneIsNoop(t *testing.T) {
	keepGlobals(t)
	noLeaks(t)
	for _, tc := range []struct {
		exporter string
		noop     bool
	}{{"none", true}, {"console", false}} {
		t.Setenv("OTEL_METRICS_EXPORTER", tc.exporter)
		var p otelsetup.Providers
		shutdown, err := otelsetup.Setup(context.Background(), otelsetup.WithServiceName("svc"),
			otelsetup.WithDefaultTracesExporter("none"), otelsetup.WithoutGlobals(&p))
		if err != nil {
			t.Fatal(err)
		}
		_, isNoop := p.MeterProvider.(metricnoop.MeterProvider)
		_, isSDK := p.MeterProvider.(*sdkmetric.MeterProvider)
		if isNoop != tc.noop || isSDK == tc.noop {
			t.Errorf("OTEL_METRICS_EXPORTER=%s: meter provider %T", tc.exporter, p.MeterProvider)
		}
		if err := shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}
}

func TestSetup_SDKDisabled(t *testing.T) {
	keepGlobals(t)
	noLeaks(t)
	rcv := startReceiver(t, "http/protobuf")
	// No service name and an exporter that would fail: neither matters.
	setenv(t, "OTEL_SDK_DISABLED", "TRUE", "OTEL_TRACES_EXPORTER", "bogus", "OTEL_EXPORTER_OTLP_ENDPOINT", rcv.Endpoint)
	shutdown, err := otelsetup.Setup(context.Background())
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	ctx, s := otel.Tracer("t").Start(context.Background(), "op")
	if s.IsRecording() || s.SpanContext().IsValid() {
		t.Error("span recorded with the SDK disabled")
	}
	s.End()
	if _, s := tracing.Start(ctx, "checkout.place_order"); s.IsRecording() {
		t.Error("tracing.Start recorded with the SDK disabled")
	}
	counter, _ := otel.Meter("t").Int64Counter("c")
	counter.Add(ctx, 1)
	if err := shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	if n := len(rcv.ResourceSpans()) + len(rcv.ResourceMetrics()); n != 0 {
		t.Errorf("%d exports with the SDK disabled", n)
	}
}

func TestSetup_BadConfigurationNamesVariableAndValue(t *testing.T) {
	for _, tc := range []struct {
		env      []string
		variable string
		value    string
	}{
		{[]string{"OTEL_TRACES_EXPORTER", "otlp,jaeger"}, "OTEL_TRACES_EXPORTER", "otlp,jaeger"},
		{[]string{"OTEL_METRICS_EXPORTER", "otlp,statsd"}, "OTEL_METRICS_EXPORTER", "otlp,statsd"},
		{[]string{"OTEL_TRACES_EXPORTER", "jaeger"}, "OTEL_TRACES_EXPORTER", "jaeger"},
		{[]string{"OTEL_TRACES_SAMPLER", "sometimes"}, "OTEL_TRACES_SAMPLER", "sometimes"},
		{[]string{"OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "1.5"}, "OTEL_TRACES_SAMPLER_ARG", "1.5"},
		{[]string{"OTEL_TRACES_SAMPLER", "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG", "half"}, "OTEL_TRACES_SAMPLER_ARG", "half"},
		{[]string{"OTEL_PROPAGATORS", "tracecontext,w3c"}, "OTEL_PROPAGATORS", "tracecontext,w3c"},
		{[]string{"OTEL_SDK_DISABLED", "yes"}, "OTEL_SDK_DISABLED", "yes"},
		{[]string{"OTEL_RESOURCE_ATTRIBUTES", "team=checkout,broken"}, "OTEL_RESOURCE_ATTRIBUTES", "team=checkout,broken"},
		{[]string{"OTEL_RESOURCE_ATTRIBUTES", "team=%zz"}, "OTEL_RESOURCE_ATTRIBUTES", "team=%zz"},
		{[]string{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
		{[]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift"},
		{[]string{"OTEL_EXPORTER_OTLP_HEADERS", "api-key"}, "OTEL_EXPORTER_OTLP_HEADERS", "<redacted>"},
		{[]string{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "bad key=1"}, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "<redacted>"},
		{[]string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS", "k=%g0"}, "OTEL_EXPORTER_OTLP_METRICS_HEADERS", "<redacted>"},
		{[]string{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"}, "OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"},
		{[]string{"OTEL_EXPORTER_OTLP_TIMEOUT", "10s"}, "OTEL_EXPORTER_OTLP_TIMEOUT", "10s"},
		{[]string{"OTEL_BSP_MAX_QUEUE_SIZE", "0"}, "OTEL_BSP_MAX_QUEUE_SIZE", "0"},
		{[]string{"OTEL_BSP_SCHEDULE_DELAY", "5s"}, "OTEL_BSP_SCHEDULE_DELAY", "5s"},
		{[]string{"OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"}, "OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"},
		{[]string{"OTEL_EXPORTER_OTLP_TRACES_INSECURE", "1"}, "OTEL_EXPORTER_OTLP_TRACES_INSECURE", "1"},
	} {
		t.Run(tc.variable+"="+tc.value, func(t *testing.T) {
			setenv(t, append([]string{"OTEL_SERVICE_NAME", "svc"}, tc.env...)...)
			shutdown, err := otelsetup.Setup(context.Background())
			if err == nil {
				_ = shutdown(context.Background())
				t.Fatal("Setup accepted the configuration")
			}
			var ce *otelsetup.ConfigError
			if !errors.As(err, &ce) || ce.Variable != tc.variable || ce.Value != tc.value {
				t.Errorf("error %v (%#v), want a ConfigError for %s=%q", err, ce, tc.variable, tc.value)
			}
			if !strings.Contains(err.Error(), tc.variable) {
				t.Errorf("error %q does not name %s", err, tc.variable)
			}
			if err := shutdown(context.Background()); err != nil {
				t.Errorf("shutdown after a failed Setup: %v", err)
			}
		})
	}
}

func TestSetup_ReportsEveryBadVariableAtOnce(t *testing.T) {
	setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_TRACES_SAMPLER", "sometimes", "OTEL_PROPAGATORS", "w3c", "OTEL_EXPORTER_OTLP_TIMEOUT", "soon")
	_, err := otelsetup.Setup(context.Background())
	for _, v := range []string{"OTEL_TRACES_SAMPLER", "OTEL_PROPAGATORS", "OTEL_EXPORTER_OTLP_TIMEOUT"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("error %v does not name %s", err, v)
		}
	}
}

func TestSetup_ServiceNameRequired(t *testing.T) {
	setenv(t)
	if _, err := otelsetup.Setup(context.Background()); err == nil || !strings.Contains(err.Error(), "OTEL_SERVICE_NAME") {
		t.Errorf("want an error asking for OTEL_SERVICE_NAME, got %v", err)
	}
	setenv(t, "OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs", "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none")
	setup(t) // service.name in OTEL_RESOURCE_ATTRIBUTES is enough
}

// schemaDetector returns a resource under a schema URL the SDK's detectors
// do not use.
type schemaDetector struct{}

func (schemaDetector) Detect(context.Context) (*resource.Resource, error) {
	return resource.NewWithAttributes("https://opentelemetry.io/schemas/1.4.0", attribute.String("cloud.provider", "test")), nil
}

func TestSetup_ResourceSchemaConflictDoesNotFail(t *testing.T) {
	setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none")
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	p, shutdown := setup(t, otelsetup.WithResourceDetectors(schemaDetector{}), otelsetup.WithSpanExporter(rec.Exporter()))
	_, s := p.TracerProvider.Tracer("t").Start(context.Background(), "op")
	s.End()
	if err := shutdown(); err != nil {
		t.Fatal(err)
	}
	res := rec.Span(t, "op").Resource()
	if v, _ := res.Set().Value("cloud.provider"); v.AsString() != "test" {
		t.Errorf("detector attribute lost: %v", res)
	}
	if v, _ := res.Set().Value("service.name"); v.AsString() != "svc" {
		t.Errorf("service.name lost: %v", res)
	}
}

// autoexport panics on a second registration of a name, so the test
// registers once and points the factory at the current run's recorder.
var (
	registerMemoryExporter sync.Once
	memoryExporter         atomic.Pointer[tracingtest.Recorder]
)

func TestSetup_DelegatesOtherNamesToAutoexport(t *testing.T) {
	noLeaks(t)
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	registerMemoryExporter.Do(func() {
		autoexport.RegisterSpanExporter("memory-test", func(context.Context) (sdktrace.SpanExporter, error) {
			return memoryExporter.Load().Exporter(), nil
		})
	})
	memoryExporter.Store(rec)
	setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_TRACES_EXPORTER", "memory-test",
		"OTEL_METRICS_EXPORTER", "prometheus", "OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1", "OTEL_EXPORTER_PROMETHEUS_PORT", "0")
	p, shutdown := setup(t)
	_, s := p.TracerProvider.Tracer("t").Start(context.Background(), "op")
	s.End()
	if err := shutdown(); err != nil {
		t.Fatal(err)
	}
	rec.Span(t, "op") // exported through the registered exporter
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

func TestSetup_UnreachableCollector(t *testing.T) {
	for _, protocol := range []string{"grpc", "http/protobuf"} {
		t.Run(protocol, func(t *testing.T) {
			keepGlobals(t)
			noLeaks(t)
			reports := tracingtest.CaptureReports(t)
			setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_EXPORTER_OTLP_PROTOCOL", protocol,
				"OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+freeAddr(t),
				"OTEL_BSP_MAX_QUEUE_SIZE", "64", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "16")
			var p otelsetup.Providers
			shutdown, err := otelsetup.Setup(context.Background(), otelsetup.WithoutGlobals(&p))
			if err != nil {
				t.Fatalf("Setup with an unreachable collector: %v", err)
			}
			// Far more spans than the queue holds: the application keeps
			// going, the excess is dropped.
			tr := p.TracerProvider.Tracer("t")
			for range 2000 {
				_, s := tr.Start(context.Background(), "op")
				s.End()
			}

			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err = shutdown(ctx)
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("shutdown took %v with a 300ms deadline", elapsed)
			}
			if err == nil {
				t.Error("shutdown reported no error although nothing was exported")
			}
			if again := shutdown(context.Background()); !errors.Is(again, err) && again != err {
				t.Errorf("second shutdown: %v, want the first result %v", again, err)
			}
			// Exports still running at the deadline are cancelled and
			// reported in the background.
			reports.WaitFor(t, func(e error) bool { return strings.Contains(e.Error(), "spans dropped") })
			if all := reports.All(); len(all) > 10 {
				t.Errorf("%d reports: not rate limited: %v", len(all), all)
			}
		})
	}
}

// The signal's protocol variable beats the generic one.
func TestSetup_SignalProtocolBeatsGeneric(t *testing.T) {
	noLeaks(t)
	rcv := startReceiver(t, "grpc")
	setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_METRICS_EXPORTER", "none",
		"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", rcv.Endpoint)
	p, shutdown := setup(t)
	_, s := p.TracerProvider.Tracer("t").Start(context.Background(), "op")
	s.End()
	if err := shutdown(); err != nil {
		t.Fatal(err)
	}
	if len(rcv.ResourceSpans()) != 1 {
		t.Errorf("no spans over gRPC")
	}
}
