package tracingtest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
	"github.com/otelkit/otelkit/tracing/diagnose"
)

// quote runs three calls in parallel under checkout.quote; the
// recommendations call fails and the quote goes on without it.
func quote(rec *tracingtest.Recorder) trace.TraceID {
	gw := rec.Service("gateway").Tracer("test")
	ctx, root := gw.Start(context.Background(), "POST /checkout", trace.WithSpanKind(trace.SpanKindServer))
	_ = tracing.Run(ctx, "checkout.quote", func(ctx context.Context) error {
		var wg sync.WaitGroup
		start := make(chan struct{})
		ended := make(chan struct{})
		for _, name := range []string{"GET", "POST", "PUT"} {
			_, s := gw.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient))
			wg.Go(func() {
				<-start
				if name == "GET" {
					s.RecordError(errors.New("503 recommendations unavailable"))
					s.SetStatus(codes.Error, "503 recommendations unavailable")
				}
				<-ended
				s.End()
			})
		}
		close(start)
		close(ended)
		wg.Wait()
		return nil
	})
	root.End()
	return root.SpanContext().TraceID()
}

func TestRecorder_AssertFinding(t *testing.T) {
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	id := quote(rec)
	f, ok := rec.AssertFinding(t, diagnose.FanOutFailure, tracingtest.Named("GET"), tracingtest.InService("gateway"))
	if !ok || f.Fields["parallel"] != 3 || f.Fields["degraded"] != true {
		t.Errorf("finding %v %v", f, f.Fields)
	}
	rec.AssertFinding(t, diagnose.ErrorAbsorbed, tracingtest.Named("GET"))
	if d := rec.Diagnose(id); d.Root.Name != "POST /checkout" || !d.Has(diagnose.FanOutFailure) {
		t.Errorf("Diagnose(%s) = %+v", id, d)
	}

	ft := &fakeTB{}
	rec2 := tracingtest.New(ft, tracingtest.WithoutGlobals())
	quote(rec2)
	if _, ok := rec2.AssertFinding(ft, diagnose.LostMessage); ok {
		t.Error("AssertFinding passed for a kind the trace does not have")
	}
	msg := ft.failures()
	if !strings.HasPrefix(msg, "tracingtest: want a lost-message finding on a matching span, found fan-out-failure: gateway GET:") ||
		strings.Contains(msg, "\n") {
		t.Errorf("failure message:\n%s", msg)
	}
	if rec2.AssertNoFinding(ft, trace.TraceID{}) {
		t.Error("AssertNoFinding passed on a trace with findings")
	}
	// The failure output leads with the diagnosis, then draws the trace.
	ft.finish()
	logs := ft.logged()
	d, w := strings.Index(logs, "diagnosis:\ntrace "), strings.Index(logs, "waterfall:\ntrace ")
	if d < 0 || w < d || !strings.Contains(logs[d:w], "⚑ fan-out-failure: gateway GET: 1 of 3 parallel calls under gateway checkout.quote failed") {
		t.Errorf("failure output does not lead with the diagnosis:\n%s", logs)
	}
	if strings.Contains(logs[w:], "⚑") {
		t.Errorf("the waterfall repeats the diagnosis:\n%s", logs[w:])
	}
}

func TestRecorder_AssertNoFindingOnAHealthyTrace(t *testing.T) {
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	tr := rec.TracerProvider().Tracer("test")
	ctx, root := tr.Start(context.Background(), "POST /checkout", trace.WithSpanKind(trace.SpanKindServer))
	_, c := tr.Start(ctx, "POST", trace.WithSpanKind(trace.SpanKindClient))
	c.End()
	root.End()
	rec.AssertNoFinding(t, root.SpanContext().TraceID())
}
