package tracingtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
)

// Collector is an OTLP/HTTP endpoint on loopback that fails every request,
// for testing that a program whose collector is down or hung still does its
// work, shuts down in time and says what happened. Point the program at it
// with OTEL_EXPORTER_OTLP_ENDPOINT=[Collector.Endpoint].
type Collector struct {
	// Endpoint is the collector's base URL, http://127.0.0.1:port.
	Endpoint string

	requests atomic.Int64
}

// Requests returns how many export requests reached the collector.
func (c *Collector) Requests() int { return int(c.requests.Load()) }

// NewHungCollector starts a collector that accepts every connection and
// request and never answers, until the test ends: the collector of a
// network partition or a stuck proxy.
func NewHungCollector(tb TB) *Collector {
	tb.Helper()
	stop := make(chan struct{})
	return startCollector(tb, stop, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	})
}

// NewFailingCollector starts a collector that answers every request with
// status (503 Service Unavailable for an overloaded collector) and an empty
// body, until the test ends.
func NewFailingCollector(tb TB, status int) *Collector {
	tb.Helper()
	return startCollector(tb, nil, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
	})
}

func startCollector(tb TB, stop chan struct{}, answer http.HandlerFunc) *Collector {
	c := &Collector{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c.requests.Add(1)
		answer(w, r)
	}))
	tb.Cleanup(srv.Close)
	if stop != nil {
		tb.Cleanup(func() { close(stop) }) // before srv.Close, which waits for the handlers
	}
	c.Endpoint = srv.URL
	return c
}
