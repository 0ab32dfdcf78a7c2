// Command tracediag prints, for each trace it reads, the waterfall and the
// diagnosis: where the error started, messages never consumed, retry
// storms, timeout chains, pool waits, partial fan-out failures and the step
// dominating the critical path; then it compares the traces it read and
// prints the attribute values that separate the failed (or lost) spans of
// an operation from the others.
//
// Usage:
//
//	tracediag [flags] FILE...                  OTLP JSON lines (the Collector's file exporter)
//	tracediag [flags] -jaeger URL TRACE_ID...   traces from Jaeger's query API (api/v3)
//	tracediag [flags] -jaeger URL -service NAME [-operation NAME] [-since 1h] [-limit 20]
//
// With -json it prints, instead, one JSON document: per trace its root,
// duration (nanoseconds), critical path and findings (kind, span, service,
// span_id, summary, fields), and the differences found by comparison. With
// -fail it exits 2 when any trace has a finding, for CI. Errors (an
// unreadable file, a malformed line, a query that fails) exit 1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/otelkit/otelkit/sdk/spanconv"
	"github.com/otelkit/otelkit/sdk/waterfall"
	"github.com/otelkit/otelkit/tracing/diagnose"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, time.Now))
}

type report struct {
	Traces      []diagnose.Diagnosis  `json:"traces"`
	Differences []diagnose.Difference `json:"differences"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("tracediag", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	fail := fs.Bool("fail", false, "exit 2 when any trace has a finding")
	jaegerURL := fs.String("jaeger", "", "base URL of a Jaeger v2 query service (http://localhost:16686); the arguments are trace ids")
	service := fs.String("service", "", "with -jaeger and no trace id: search the traces of this service")
	operation := fs.String("operation", "", "with -service: only this operation (span name)")
	since := fs.Duration("since", time.Hour, "with -service: how far back to search")
	limit := fs.Int("limit", 20, "with -service: at most this many traces")
	width := fs.Int("width", 0, "waterfall width in columns (default: the terminal's, else 120)")
	dominance := fs.Float64("dominance", 0.5, "share of the critical path above which one step is reported as dominating")
	slow := fs.Duration("slow-request", 100*time.Millisecond, "report a dominating step only in traces at least this long")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tracediag [flags] FILE...\n       tracediag [flags] -jaeger URL TRACE_ID...\n       tracediag [flags] -jaeger URL -service NAME")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 1
	}
	spans, err := load(ctx, fs.Args(), *jaegerURL, *service, *operation, *since, *limit, now())
	if err != nil {
		fmt.Fprintf(stderr, "tracediag: %v\n", err)
		return 1
	}
	ds := diagnose.Diagnose(spans, diagnose.WithDominance(*dominance), diagnose.WithSlowRequest(*slow))
	rep := report{Traces: ds, Differences: diagnose.Compare(ds)}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if rep.Traces == nil {
			rep.Traces = []diagnose.Diagnosis{}
		}
		if rep.Differences == nil {
			rep.Differences = []diagnose.Difference{}
		}
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "tracediag: %v\n", err)
			return 1
		}
	} else if err := printText(stdout, spans, rep, *width); err != nil {
		fmt.Fprintf(stderr, "tracediag: %v\n", err)
		return 1
	}
	if *fail {
		for _, d := range ds {
			if len(d.Findings) > 0 {
				return 2
			}
		}
	}
	return 0
}

func load(ctx context.Context, args []string, jaegerURL, service, operation string, since time.Duration, limit int, now time.Time) ([]diagnose.Span, error) {
	if jaegerURL == "" {
		if len(args) == 0 {
			return nil, errors.New("no file named (or -jaeger URL): see -h")
		}
		var all []diagnose.Span
		for _, name := range args {
			spans, err := readFile(name)
			if err != nil {
				return nil, err
			}
			all = append(all, spans...)
		}
		return all, nil
	}
	j := jaeger{base: jaegerURL, client: &http.Client{Timeout: time.Minute}}
	if len(args) == 0 {
		if service == "" {
			return nil, errors.New("-jaeger needs trace ids or -service")
		}
		spans, err := j.search(ctx, service, operation, since, limit, now)
		if err == nil && len(spans) == 0 {
			err = fmt.Errorf("no trace of service %q in the last %s", service, since)
		}
		return spans, err
	}
	var all []diagnose.Span
	for _, id := range args {
		spans, err := j.trace(ctx, id)
		if err != nil {
			return nil, err
		}
		if len(spans) == 0 {
			return nil, fmt.Errorf("trace %s: not found", id)
		}
		all = append(all, spans...)
	}
	return all, nil
}

func readFile(name string) ([]diagnose.Span, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	spans, err := readOTLPLines(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return spans, nil
}

func printText(w io.Writer, spans []diagnose.Span, rep report, width int) error {
	opts := []waterfall.Option{waterfall.WithWidth(width)}
	for i, d := range rep.Traces {
		if i > 0 {
			fmt.Fprintln(w)
		}
		var own []diagnose.Span
		for _, s := range spans {
			if s.TraceID == d.TraceID {
				own = append(own, s)
			}
		}
		if err := waterfall.Render(w, spanconv.ToSDK(own), opts...); err != nil {
			return err
		}
		var path []string
		for _, s := range d.CriticalPath {
			if s.Share >= 0.05 || s.Wait > 0 {
				step := fmt.Sprintf("%s %d%%", s.SpanRef, int(s.Share*100))
				if s.Wait > 0 {
					step = fmt.Sprintf("(waited %s) %s", s.Wait.Round(time.Microsecond), step)
				}
				path = append(path, step)
			}
		}
		fmt.Fprintf(w, "critical path (%s): %s\n", d.Duration.Round(time.Microsecond), strings.Join(path, " → "))
		if len(d.Findings) == 0 {
			fmt.Fprintln(w, "no finding")
		}
	}
	if len(rep.Differences) > 0 {
		fmt.Fprintf(w, "\ncomparison of %d traces:\n", len(rep.Traces))
		for _, d := range rep.Differences {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
	return nil
}
