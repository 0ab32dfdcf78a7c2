package main

import (
	"errors"
	"fmt"
	"log"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"

	"github.com/otelkit/otelkit/sdk/otelsetup"
)

// otelReports keeps what the telemetry reports through otel.Handle while
// the demo runs, to print it once at the end, after the report: every
// service has its own exporter, so a collector that is down would otherwise
// print one line per service, and again at shutdown.
type otelReports struct {
	mu    sync.Mutex
	seen  map[string]bool
	lines []string
}

var (
	reportsTo   atomic.Pointer[otelReports]
	installOnce sync.Once
)

// collectReports makes otel.Handle keep its reports in the returned
// otelReports from now on. Before the first call they are logged.
func collectReports() *otelReports {
	installOnce.Do(func() {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			if r := reportsTo.Load(); r != nil {
				r.add(err)
				return
			}
			log.Print(err)
		}))
	})
	r := &otelReports{seen: map[string]bool{}}
	reportsTo.Store(r)
	return r
}

func (r *otelReports) add(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if msg := err.Error(); !r.seen[msg] {
		r.seen[msg] = true
		r.lines = append(r.lines, msg)
	}
}

// summary returns the lines to print for the telemetry's shutdown error and
// the reports: one line per exporter and reason for the spans not exported,
// whichever services they came from, then the other reports. Reports of
// failed span exports count the same spans as the shutdown's error and are
// left out when it has any.
func (r *otelReports) summary(shutdownErr error) []string {
	type key struct{ exporter, endpoint, why string }
	var (
		order  []key
		spans  = map[key]int{}
		others []string
	)
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if u := errors.Unwrap(err); u != nil {
			if _, ok := u.(interface{ Unwrap() []error }); ok {
				walk(u) // "tracing: shutdown: " and the errors of one service
				return
			}
		}
		var ee *otelsetup.ExportError
		if !errors.As(err, &ee) {
			others = append(others, err.Error())
			return
		}
		k := key{ee.Exporter, ee.Endpoint, fmt.Sprint(ee.Err)}
		if _, ok := spans[k]; !ok {
			order = append(order, k)
		}
		spans[k] += ee.Spans
	}
	walk(shutdownErr)
	var lines []string
	for _, k := range order {
		lines = append(lines, (&otelsetup.ExportError{Exporter: k.exporter, Endpoint: k.endpoint, Spans: spans[k], Err: errors.New(k.why)}).Error())
	}
	for _, l := range others {
		if !slices.Contains(lines, l) { // the same from every service
			lines = append(lines, l)
		}
	}
	if r != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, l := range r.lines {
			if len(order) > 0 && strings.Contains(l, " span export(s) failed") {
				continue
			}
			lines = append(lines, l)
		}
	}
	return lines
}
