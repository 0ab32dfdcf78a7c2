package otelsetup_test

import (
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// receiver is an OTLP receiver on loopback speaking gRPC or http/protobuf. It
// decodes every request as a collector would and keeps what it received.
type receiver struct {
	Endpoint string // http://127.0.0.1:port

	mu      sync.Mutex
	spans   []*tracepb.ResourceSpans
	metrics []*metricpb.ResourceMetrics
	logs    []*logspb.ResourceLogs
	headers []map[string]string // one per request
}

func (r *receiver) addSpans(rs []*tracepb.ResourceSpans, h map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spans = append(r.spans, rs...)
	r.headers = append(r.headers, h)
}

func (r *receiver) addMetrics(rm []*metricpb.ResourceMetrics, h map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics = append(r.metrics, rm...)
	r.headers = append(r.headers, h)
}

func (r *receiver) addLogs(rl []*logspb.ResourceLogs, h map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, rl...)
	r.headers = append(r.headers, h)
}

func (r *receiver) ResourceLogs() []*logspb.ResourceLogs {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs
}

func (r *receiver) ResourceSpans() []*tracepb.ResourceSpans {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.spans
}

func (r *receiver) ResourceMetrics() []*metricpb.ResourceMetrics {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.metrics
}

func (r *receiver) Headers() []map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.headers
}

// startReceiver starts a receiver for protocol ("grpc" or "http/protobuf"),
// stopped when the test ends.
func startReceiver(t *testing.T, protocol string) *receiver {
	t.Helper()
	r := &receiver{}
	switch protocol {
	case "grpc":
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := grpc.NewServer()
		colltracepb.RegisterTraceServiceServer(srv, grpcTraces{r: r})
		collmetricpb.RegisterMetricsServiceServer(srv, grpcMetrics{r: r})
		collogspb.RegisterLogsServiceServer(srv, grpcLogs{r: r})
		go func() { _ = srv.Serve(lis) }()
		t.Cleanup(srv.Stop)
		r.Endpoint = "http://" + lis.Addr().String()
	case "http/protobuf":
		mux := http.NewServeMux()
		mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
			var msg colltracepb.ExportTraceServiceRequest
			if !decodeHTTP(t, w, req, &msg) {
				return
			}
			r.addSpans(msg.ResourceSpans, flatHeaders(req.Header))
			writeHTTP(t, w, &colltracepb.ExportTraceServiceResponse{})
		})
		mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, req *http.Request) {
			var msg collmetricpb.ExportMetricsServiceRequest
			if !decodeHTTP(t, w, req, &msg) {
				return
			}
			r.addMetrics(msg.ResourceMetrics, flatHeaders(req.Header))
			writeHTTP(t, w, &collmetricpb.ExportMetricsServiceResponse{})
		})
		mux.HandleFunc("POST /v1/logs", func(w http.ResponseWriter, req *http.Request) {
			var msg collogspb.ExportLogsServiceRequest
			if !decodeHTTP(t, w, req, &msg) {
				return
			}
			r.addLogs(msg.ResourceLogs, flatHeaders(req.Header))
			writeHTTP(t, w, &collogspb.ExportLogsServiceResponse{})
		})
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		r.Endpoint = srv.URL
	default:
		t.Fatalf("unknown protocol %q", protocol)
	}
	return r
}

func decodeHTTP(t *testing.T, w http.ResponseWriter, req *http.Request, msg proto.Message) bool {
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		t.Errorf("Content-Type %q, want application/x-protobuf", ct)
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return false
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err == nil {
		err = proto.Unmarshal(b, msg)
	}
	if err != nil {
		t.Errorf("decoding an OTLP request: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func writeHTTP(t *testing.T, w http.ResponseWriter, msg proto.Message) {
	b, err := proto.Marshal(msg)
	if err != nil {
		t.Error(err)
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(b)
}

func flatHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[http.CanonicalHeaderKey(k)] = v[0]
	}
	return out
}

func grpcHeaders(ctx context.Context) map[string]string {
	md, _ := metadata.FromIncomingContext(ctx)
	out := make(map[string]string, len(md))
	for k, v := range md {
		out[http.CanonicalHeaderKey(k)] = v[0]
	}
	return out
}

type grpcTraces struct {
	colltracepb.UnimplementedTraceServiceServer
	r *receiver
}

func (g grpcTraces) Export(ctx context.Context, req *colltracepb.ExportTraceServiceRequest) (*colltracepb.ExportTraceServiceResponse, error) {
	g.r.addSpans(req.ResourceSpans, grpcHeaders(ctx))
	return &colltracepb.ExportTraceServiceResponse{}, nil
}

type grpcMetrics struct {
	collmetricpb.UnimplementedMetricsServiceServer
	r *receiver
}

func (g grpcMetrics) Export(ctx context.Context, req *collmetricpb.ExportMetricsServiceRequest) (*collmetricpb.ExportMetricsServiceResponse, error) {
	g.r.addMetrics(req.ResourceMetrics, grpcHeaders(ctx))
	return &collmetricpb.ExportMetricsServiceResponse{}, nil
}

type grpcLogs struct {
	collogspb.UnimplementedLogsServiceServer
	r *receiver
}

func (g grpcLogs) Export(ctx context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	g.r.addLogs(req.ResourceLogs, grpcHeaders(ctx))
	return &collogspb.ExportLogsServiceResponse{}, nil
}
