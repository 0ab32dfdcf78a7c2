package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// plainProvider returns a provider recording into rec without the strict
// names of rec's own providers: these tests check what the tracing package
// does with a bad name.
func plainProvider(t *testing.T, rec *tracingtest.Recorder) *sdktrace.TracerProvider {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(rec.Exporter()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

// uniq makes names unique per test run, so that tests of once-per-process
// behaviour pass under go test -count=N.
var uniq atomic.Int64

func TestStart_InvalidNameReportedOncePerNameAndSpanStillCreated(t *testing.T) {
	errs := tracingtest.Reports(t)
	rec := newRecorder(t)
	ctx := rootCtx(t, plainProvider(t, rec))
	name := fmt.Sprintf("Orders.Get%d", uniq.Add(1)) // unique per run: reports are once per process
	for range 3 {
		_, span := tracing.Start(ctx, name)
		span.End()
	}
	if n := len(rec.Find(name)); n != 3 {
		t.Fatalf("%d spans exported, want 3: the span is created whatever its name", n)
	}
	got := errs()
	if len(got) != 1 || !errors.Is(got[0], tracing.ErrInvalidName) || !strings.Contains(got[0].Error(), name) {
		t.Fatalf("reports = %v, want one tracing.ErrInvalidName naming %q", got, name)
	}
}

func TestStrictNames_FailsInsteadOfReporting(t *testing.T) {
	errs := tracingtest.Reports(t)
	rec := newRecorder(t)
	tp := plainProvider(t, rec)
	var failed []string
	stop := tracing.StrictNames(tp, func(name string, err error) { failed = append(failed, name) })
	ctx := rootCtx(t, tp)
	bad := fmt.Sprintf("strict.Bad%d", uniq.Add(1)) // unique per run: reports are once per process
	_, span := tracing.Start(ctx, bad)
	span.End()
	_, span = tracing.Start(ctx, "strict.good")
	span.End()
	stop()
	_, span = tracing.Start(context.Background(), bad) // global provider: no strict mode
	span.End()
	if len(failed) != 1 || failed[0] != bad {
		t.Errorf("strict failures = %v, want [%s]", failed, bad)
	}
	if len(rec.Spans()) != 2 {
		t.Errorf("spans = %d, want 2", len(rec.Spans()))
	}
	if len(errs()) != 1 {
		t.Errorf("reports after stop = %v, want one", errs())
	}
}
