package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"

	"github.com/otelkit/otelkit/sdk/otelsetup"
)

// otelReports handles what the telemetry reports through otel.Handle while
// the demo runs. Export failures are kept, to be summed up once after the
// report: every service has its own exporter, so a collector that is down
// would otherwise print one line per service, and again at shutdown. Other
// reports are written at once, each once.
type otelReports struct {
	out   io.Writer
	mu    sync.Mutex
	seen  map[string]bool
	lines []string // export failures
}

var (
	reportsTo   atomic.Pointer[otelReports]
	installOnce sync.Once
)

// collectReports makes otel.Handle go to the returned otelReports from now
// on, writing to out. Before the first call reports are logged.
func collectReports(out io.Writer) *otelReports {
	installOnce.Do(func() {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			if r := reportsTo.Load(); r != nil {
				r.add(err)
				return
			}
			log.Print(err)
		}))
	})
	r := &otelReports{out: out, seen: map[string]bool{}}
	reportsTo.Store(r)
	return r
}

// exportFailure reports whether msg reports spans, metrics or log records
// that were not exported.
func exportFailure(msg string) bool {
	return strings.Contains(msg, " span export(s) failed") || strings.Contains(msg, "metrics not exported") ||
		strings.Contains(msg, " log export(s) failed")
}

func (r *otelReports) add(err error) {
	msg := err.Error()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[msg] {
		return
	}
	r.seen[msg] = true
	if exportFailure(msg) {
		r.lines = append(r.lines, msg)
		return
	}
	fmt.Fprintln(r.out, msg)
}

// summary returns the lines to print for the telemetry's shutdown error and
// the reports: one line per exporter and reason for the spans not exported,
// (and for the log records), whichever services they came from, then the
// other errors and the export failures reported. Reports of failed span and
// log exports count the same spans and records as the shutdown's error and
// are left out when it has any.
func (r *otelReports) summary(shutdownErr error) []string {
	// One line per exporter and endpoint: the spans of every service
	// summed, with what the collector answered rather than the shutdown
	// deadline that cut the last exports short, when both were seen.
	type key struct{ exporter, endpoint string }
	type count struct {
		spans, records int
		why            string
	}
	var (
		order  []key
		lost   = map[key]count{}
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
		k := key{ee.Exporter, ee.Endpoint}
		c, ok := lost[k]
		if !ok {
			order = append(order, k)
		}
		why := fmt.Sprint(ee.Err)
		if c.why != "" && (strings.HasPrefix(why, "shutdown deadline passed") || !strings.HasPrefix(c.why, "shutdown deadline passed")) {
			why = c.why
		}
		lost[k] = count{c.spans + ee.Spans, c.records + ee.LogRecords, why}
	}
	walk(shutdownErr)
	var lines []string
	for _, k := range order {
		c := lost[k]
		lines = append(lines, (&otelsetup.ExportError{Exporter: k.exporter, Endpoint: k.endpoint, Spans: c.spans, LogRecords: c.records, Err: errors.New(c.why)}).Error())
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
			if len(order) > 0 && (strings.Contains(l, " span export(s) failed") || strings.Contains(l, " log export(s) failed")) || slices.Contains(lines, l) {
				continue
			}
			lines = append(lines, l)
		}
	}
	return lines
}
