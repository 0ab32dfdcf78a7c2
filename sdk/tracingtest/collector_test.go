package tracingtest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/otelkit/otelkit/sdk/tracingtest"
)

func post(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/traces", strings.NewReader("x"))
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}

func TestNewFailingCollector_AnswersEveryRequestWithTheStatus(t *testing.T) {
	col := tracingtest.NewFailingCollector(t, http.StatusServiceUnavailable)
	for range 2 {
		resp, err := post(context.Background(), col.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("status %d, want 503", resp.StatusCode)
		}
	}
	if n := col.Requests(); n != 2 {
		t.Errorf("Requests() = %d, want 2", n)
	}
}

func TestNewHungCollector_NeverAnswers(t *testing.T) {
	col := tracingtest.NewHungCollector(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	resp, err := post(ctx, col.Endpoint)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d, want no answer", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("request error %v, want the request's deadline", err)
	}
	if n := col.Requests(); n != 1 {
		t.Errorf("Requests() = %d, want 1", n)
	}
}
