package httptrace_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelkit/otelkit/httptrace"
)

// Requests racing on a MeterProvider installed after the handler was built
// each rebuild otelhttp's handler from the same options; under -race this
// catches builds that share the options' backing array.
func TestHandler_ConcurrentRequestsAfterTheGlobalMeterProviderChanges(t *testing.T) {
	prev := otel.GetMeterProvider()
	t.Cleanup(func() { otel.SetMeterProvider(prev) })
	h := httptrace.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}),
		httptrace.WithPublicEndpoint())
	for range 5 {
		otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())))
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/orders", nil))
				if rec.Code != http.StatusOK {
					t.Errorf("status %d", rec.Code)
				}
			})
		}
		wg.Wait()
	}
}
