package httptrace_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/tracing"
	"github.com/otelkit/otelkit/tracing/w3c"
)

func Example() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	opts := []httptrace.Option{
		httptrace.WithTracerProvider(tp),
		httptrace.WithPropagators(propagation.NewCompositeTextMapPropagator(w3c.TraceContext{}, propagation.Baggage{})),
	}

	// orders: the service behind the gateway.
	ordersMux := http.NewServeMux()
	ordersMux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		for _, kv := range tracing.Business(r.Context()) {
			fmt.Println("orders sees", kv.Key, "=", kv.Value.String())
		}
		w.WriteHeader(http.StatusCreated)
	})
	orders := httptest.NewServer(httptrace.NewHandler(ordersMux, opts...))
	defer orders.Close()

	// gateway: the public edge; it calls orders with a traced client.
	client := &http.Client{Transport: httptrace.NewTransport(nil, opts...)}
	gatewayMux := http.NewServeMux()
	gatewayMux.HandleFunc("POST /checkout/{cart}", func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, orders.URL+"/orders", nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_ = resp.Body.Close()
	})
	gateway := httptest.NewServer(httptrace.NewHandler(gatewayMux, append(opts,
		httptrace.WithPublicEndpoint(),
		httptrace.WithBusinessAttributes(func(r *http.Request) []attribute.KeyValue {
			return []attribute.KeyValue{tracing.TenantID.String(r.Header.Get("X-Tenant"))}
		}),
	)...))
	defer gateway.Close()

	req, _ := http.NewRequest(http.MethodPost, gateway.URL+"/checkout/c-81", nil)
	req.Header.Set("X-Tenant", "acme")
	req.Header.Set("Baggage", "tenant.id=forged") // dropped at the edge
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	_ = resp.Body.Close()
	fmt.Println("trace id returned:", resp.Header.Get("traceresponse") != "")

	// Close waits for the handlers, so every span has ended.
	gateway.Close()
	orders.Close()
	var got []string
	for _, s := range spans.GetSpans() {
		got = append(got, s.SpanKind.String()+" "+s.Name)
	}
	sort.Strings(got)
	for _, s := range got {
		fmt.Println(s)
	}
	// Output:
	// orders sees tenant.id = acme
	// trace id returned: true
	// client POST
	// server POST /checkout/{cart}
	// server POST /orders
}

// The business hook of a middleware that wraps a ServeMux reads path values
// in the routes wrapped with Routed, where the request is routed.
func ExampleRouted() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	orderID := tracing.NewStringKey("order.id", tracing.Travels())

	mux := http.NewServeMux()
	mux.Handle("GET /orders/{id}", httptrace.Routed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, kv := range tracing.Business(r.Context()) {
			fmt.Println("handler sees", kv.Key, "=", kv.Value.String())
		}
	})))
	srv := httptest.NewServer(httptrace.NewHandler(mux,
		httptrace.WithTracerProvider(tp),
		httptrace.WithBusinessAttributes(func(r *http.Request) []attribute.KeyValue {
			return []attribute.KeyValue{orderID.String(r.PathValue("id"))}
		}),
	))
	resp, err := http.Get(srv.URL + "/orders/o-42")
	if err != nil {
		panic(err)
	}
	_ = resp.Body.Close()
	srv.Close() // waits for the handler: the span has ended

	for _, s := range spans.GetSpans() {
		for _, kv := range s.Attributes {
			if kv.Key == orderID.Key() {
				fmt.Println(s.Name, kv.Key, "=", kv.Value.String())
			}
		}
	}
	// Output:
	// handler sees order.id = o-42
	// GET /orders/{id} order.id = o-42
}

// ContextWithURLTemplate names a client span after the route it calls.
func ExampleContextWithURLTemplate() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	client := &http.Client{Transport: httptrace.NewTransport(nil, httptrace.WithTracerProvider(tp))}

	for _, ctx := range []context.Context{
		httptrace.ContextWithURLTemplate(context.Background(), "/orders/{id}"),
		context.Background(),
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/orders/o-42", nil)
		resp, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		_ = resp.Body.Close()
	}
	for _, s := range spans.GetSpans() {
		fmt.Println(s.Name)
	}
	// Output:
	// GET /orders/{id}
	// GET
}
