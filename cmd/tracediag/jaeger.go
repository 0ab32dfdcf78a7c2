package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/otelkit/otelkit/tracing/diagnose"
)

// jaeger reads traces from the query API of Jaeger v2 (api/v3), which
// answers in OTLP JSON wrapped in "result".
type jaeger struct {
	base   string
	client *http.Client
}

// trace fetches one trace: GET /api/v3/traces/{trace_id}.
func (j jaeger) trace(ctx context.Context, id string) ([]diagnose.Span, error) {
	return j.get(ctx, "/api/v3/traces/"+url.PathEscape(id))
}

// search fetches the traces of a service (and operation) that started in
// the last `since`: GET /api/v3/traces?query.service_name=...
func (j jaeger) search(ctx context.Context, service, operation string, since time.Duration, limit int, now time.Time) ([]diagnose.Span, error) {
	q := url.Values{}
	q.Set("query.service_name", service)
	if operation != "" {
		q.Set("query.operation_name", operation)
	}
	q.Set("query.start_time_min", now.Add(-since).UTC().Format(time.RFC3339Nano))
	q.Set("query.start_time_max", now.UTC().Format(time.RFC3339Nano))
	q.Set("query.num_traces", strconv.Itoa(limit))
	return j.get(ctx, "/api/v3/traces?"+q.Encode())
}

func (j jaeger) get(ctx context.Context, path string) ([]diagnose.Span, error) {
	u := strings.TrimRight(j.base, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxLine+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if len(body) > maxLine {
		return nil, fmt.Errorf("GET %s: response larger than %d MiB", u, maxLine>>20)
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil // no trace of that id, or none matching the search
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body[:min(len(body), 300)])))
	}
	spans, err := decodeOTLP(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return spans, nil
}
