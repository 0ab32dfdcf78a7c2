package waterfall_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/waterfall"
	"github.com/otelkit/otelkit/tracing"
)

// orderID is the tests' own business key, declared as a company declares
// its keys: it travels, so the trace header shows it.
var orderID = tracing.NewStringKey("order.id", tracing.Travels())

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)

func svc(name string) *resource.Resource {
	return resource.NewSchemaless(semconv.ServiceName(name))
}

func tid(b byte) trace.TraceID { return trace.TraceID{0: 0x4b, 15: b} }
func sid(b byte) trace.SpanID  { return trace.SpanID{7: b} }

// stub builds a span of trace tr, id id, child of parent (0: none; remote
// marks the parent as propagated from another process).
func stub(tr, id, parent byte, remote bool, service, name string, start, dur time.Duration, attrs ...attribute.KeyValue) tracetest.SpanStub {
	s := tracetest.SpanStub{
		Name:        name,
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid(tr), SpanID: sid(id), TraceFlags: trace.FlagsSampled}),
		StartTime:   t0.Add(start),
		EndTime:     t0.Add(start + dur),
		Attributes:  attrs,
		Resource:    svc(service),
	}
	if parent != 0 {
		s.Parent = trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid(tr), SpanID: sid(parent), TraceFlags: trace.FlagsSampled, Remote: remote})
	}
	return s
}

func failed(s tracetest.SpanStub, desc, excType, excMsg string) tracetest.SpanStub {
	s.Status = sdktrace.Status{Code: codes.Error, Description: desc}
	s.Attributes = append(s.Attributes, semconv.ErrorTypeKey.String(excType))
	if excMsg != "" {
		s.Events = append(s.Events, sdktrace.Event{Name: semconv.ExceptionEventName, Attributes: []attribute.KeyValue{
			semconv.ExceptionType(excType), semconv.ExceptionMessage(excMsg),
		}})
	}
	return s
}

// checkout is a checkout trace crossing four services in one process, with a
// failed notification, and an unrelated single-span trace that started
// earlier.
func checkout() []sdktrace.ReadOnlySpan {
	order := orderID.String("ord-42")
	user := tracing.UserID.String("u-7")
	ms := time.Millisecond
	stubs := tracetest.SpanStubs{
		stub(1, 1, 0, false, "gateway", "POST /checkout", 0, 1250*ms, order, user, semconv.HTTPResponseStatusCode(200)),
		stub(1, 2, 1, false, "gateway", "POST", 5*ms, 900*ms, order),
		stub(1, 3, 2, true, "orders", "POST /orders", 8*ms, 890*ms, order, user),
		stub(1, 4, 3, false, "orders", "orders.create", 10*ms, 600*ms, order),
		stub(1, 5, 4, false, "orders", "INSERT orders", 12*ms, 3500*time.Microsecond),
		stub(1, 6, 4, false, "orders", "inventory.validate_stock_levels", 20*ms, 560*ms, order, attribute.Int("order.item_count", 47)),
		stub(1, 7, 3, false, "orders", "send orders", 620*ms, 2*ms, semconv.MessagingDestinationPartitionID("5")),
		failed(stub(1, 8, 7, true, "notifications", "process orders", 700*ms, 540*ms, order, attribute.String("user.id", "u-8")),
			"smtp: 451 try again later", "*smtp.Error", "smtp: 451 try again later"),
		failed(stub(1, 9, 3, false, "orders", "payments.charge", 630*ms, 250*ms, attribute.String("payment.provider", "acme"), semconv.HTTPResponseStatusCode(401)),
			"provider rejected the charge", "401", "unauthorized: api version 2024-01 requires a new key"),
		stub(2, 1, 0, false, "gateway", "GET /healthz", -30*ms, 850*time.Microsecond),
	}
	return stubs.Snapshots()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestRender_Golden(t *testing.T) {
	for _, width := range []int{100, 160} {
		var buf bytes.Buffer
		// A service's own key after the defaults, as the checkout example does.
		keys := append(waterfall.DefaultAttributes(), "payment.provider")
		if err := waterfall.Render(&buf, checkout(), waterfall.WithWidth(width), waterfall.WithColor(false), waterfall.WithAttributes(keys...)); err != nil {
			t.Fatal(err)
		}
		golden(t, fmt.Sprintf("checkout_%d.txt", width), buf.Bytes())
	}
}

func TestRender_LinesFitTheWidth(t *testing.T) {
	for _, width := range []int{40, 60, 80, 100, 160} {
		var buf bytes.Buffer
		if err := waterfall.Render(&buf, checkout(), waterfall.WithWidth(width), waterfall.WithColor(false)); err != nil {
			t.Fatal(err)
		}
		for l := range strings.SplitSeq(strings.TrimRight(buf.String(), "\n"), "\n") {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: line of %d columns: %q", width, n, l)
			}
		}
	}
}

func TestRender_ColorOnlyWhenAsked(t *testing.T) {
	var plain, colored bytes.Buffer
	if err := waterfall.Render(&plain, checkout(), waterfall.WithWidth(100)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("escape codes written to a non-terminal:\n%q", plain.String())
	}
	if err := waterfall.Render(&colored, checkout(), waterfall.WithWidth(100), waterfall.WithColor(true)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(colored.String(), "\x1b[31m") {
		t.Errorf("WithColor(true): no red for failed spans:\n%q", colored.String())
	}
}

func TestRender_NoColorVariableWins(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	var buf bytes.Buffer
	if err := waterfall.Render(os.Stdout, nil); err != nil {
		t.Fatal(err)
	}
	if err := waterfall.Render(&buf, checkout(), waterfall.WithWidth(100)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "\x1b[") {
		t.Errorf("escape codes written with NO_COLOR set")
	}
}

func TestRender_ValuesCannotInjectEscapes(t *testing.T) {
	s := stub(3, 1, 0, false, "gateway", "evil\x1b[2Jname\nnext", 0, time.Millisecond, attribute.String("order.id", "a\x1b]0;pwned\x07"))
	var buf bytes.Buffer
	if err := waterfall.Render(&buf, tracetest.SpanStubs{s}.Snapshots(), waterfall.WithWidth(100), waterfall.WithColor(false)); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(buf.String(), "\x1b\x07") || strings.Count(buf.String(), "\n") != 2 {
		t.Errorf("control characters reached the output: %q", buf.String())
	}
}

// headerOf renders spans and returns the header line of their trace.
func headerOf(t *testing.T, spans []sdktrace.ReadOnlySpan, opts ...waterfall.Option) string {
	t.Helper()
	var buf bytes.Buffer
	if err := waterfall.Render(&buf, spans, append([]waterfall.Option{waterfall.WithWidth(200), waterfall.WithColor(false)}, opts...)...); err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(buf.String(), "\n")
	return header
}

// The header shows what the program registered as traveling, not a list
// compiled into the waterfall: a key registered by the test (after the
// package initialised) shows; an unregistered attribute and a registered
// key that does not travel do not.
func TestRender_HeaderShowsRegisteredTravelingKeys(t *testing.T) {
	tier := tracing.NewStringKey("loyalty.tier", tracing.Travels())
	coupon := tracing.NewStringKey("coupon.code")
	spans := tracetest.SpanStubs{
		stub(4, 1, 0, false, "gateway", "POST /checkout", 0, 10*time.Millisecond,
			tier.String("gold"), coupon.String("SPRING"), attribute.String("campaign.name", "spring")),
		stub(4, 2, 1, false, "gateway", "checkout.charge", time.Millisecond, 5*time.Millisecond,
			tracing.TenantID.String("acme"), orderID.String("ord-42")),
	}.Snapshots()
	header := headerOf(t, spans)
	want := "2 spans  loyalty.tier=gold  order.id=ord-42  tenant.id=acme"
	if !strings.HasSuffix(header, want) {
		t.Errorf("header %q, want it to end in %q", header, want)
	}
	for _, absent := range []string{"campaign.name", "coupon.code"} {
		if strings.Contains(header, absent) {
			t.Errorf("header %q shows %s", header, absent)
		}
	}
}

// WithTraceAttributes replaces the registry's list, in the order given; a
// key in neither list shows only on the span lines WithAttributes names.
func TestRender_WithTraceAttributes(t *testing.T) {
	spans := tracetest.SpanStubs{
		stub(5, 1, 0, false, "gateway", "POST /checkout", 0, 10*time.Millisecond,
			orderID.String("ord-42"), tracing.UserID.String("u-7"), attribute.String("campaign.name", "spring")),
	}.Snapshots()
	for _, tt := range []struct {
		keys []attribute.Key
		want string
	}{
		{[]attribute.Key{"campaign.name", orderID.Key()}, "1 span  campaign.name=spring  order.id=ord-42"},
		{nil, "1 span"},
	} {
		if got := headerOf(t, spans, waterfall.WithTraceAttributes(tt.keys...)); !strings.HasSuffix(got, tt.want) {
			t.Errorf("WithTraceAttributes(%v): header %q, want it to end in %q", tt.keys, got, tt.want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRender_ReturnsWriteError(t *testing.T) {
	if err := waterfall.Render(failWriter{}, checkout()); err == nil {
		t.Error("Render to a failing writer returned nil")
	}
}

// The diagnosis goes under the trace's header, before the spans; it can be
// turned off.
func TestRender_DiagnosisUnderHeader(t *testing.T) {
	var on, off bytes.Buffer
	_ = waterfall.Render(&on, checkout(), waterfall.WithWidth(160), waterfall.WithColor(false))
	_ = waterfall.Render(&off, checkout(), waterfall.WithWidth(160), waterfall.WithColor(false), waterfall.WithDiagnosis(false))
	lines := strings.Split(on.String(), "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "trace 4b000000000000000000000000000001") })
	if i < 0 || !strings.HasPrefix(lines[i+1], "⚑ error-absorbed: orders payments.charge: failed: provider rejected the charge") {
		t.Errorf("no diagnosis under the header:\n%s", on.String())
	}
	if strings.Contains(off.String(), "⚑") {
		t.Errorf("WithDiagnosis(false) printed a diagnosis:\n%s", off.String())
	}
	if n := strings.Count(on.String(), "\n") - strings.Count(off.String(), "\n"); n != 2 {
		t.Errorf("diagnosis took %d lines, want 2", n)
	}
}
