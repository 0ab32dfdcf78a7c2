package waterfall_test

import (
	"os"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/sdk/waterfall"
)

func ExampleRender() {
	ms := time.Millisecond
	spans := tracetest.SpanStubs{
		stub(1, 1, 0, false, "gateway", "POST /checkout", 0, 120*ms),
		stub(1, 2, 1, true, "orders", "orders.create", 10*ms, 80*ms),
		failed(stub(1, 3, 2, false, "orders", "payments.charge", 40*ms, 30*ms), "card declined", "payment.Declined", ""),
	}.Snapshots()
	_ = waterfall.Render(os.Stdout, spans, waterfall.WithWidth(80), waterfall.WithColor(false))
	// Output:
	// trace 4b000000000000000000000000000001  POST /checkout  120ms  3 spans, 1 failed
	// ⚑ error-absorbed: orders payments.charge: failed: card declined; absorbed by
	//   orders orders.create, which did not fail (graceful degradation)
	// gateway POST /checkout        |██████████████████████████|   120ms
	// orders  └─ orders.create      |  ██████████████████      |    80ms
	// orders     └─ payments.charge |        ████████          |    30ms  ERROR
	//                  card declined  error.type=payment.Declined
}
