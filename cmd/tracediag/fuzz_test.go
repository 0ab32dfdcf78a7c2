package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/tracing/diagnose"
)

// FuzzReadOTLPLines feeds arbitrary files to the reader and whatever it
// accepts to the analysis: an error or a diagnosis, never a panic or a
// hang.
func FuzzReadOTLPLines(f *testing.F) {
	for _, name := range []string{"testdata/kotel.jsonl", "testdata/jaeger_trace.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	jaeger, _ := os.ReadFile("testdata/jaeger_trace.json")
	f.Add(bytes.Join(bytes.Fields(jaeger), nil))
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4701","spanId":"00f067aa0ba90201","parentSpanId":"00f067aa0ba90201","kind":9,"startTimeUnixNano":"18446744073709551615","endTimeUnixNano":"1","links":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4701","spanId":"00f067aa0ba90201"}]}]}]}]}`))
	f.Add([]byte(`{"error":{"httpCode":404,"message":"trace not found"}}`))
	f.Add([]byte(`{"result":{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"kvlistValue":{"values":[]}}}]}}]}}`))
	f.Add([]byte(strings.Repeat(`{"a":`, 5000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		spans, err := readOTLPLines(bytes.NewReader(data))
		if err != nil {
			return
		}
		ds := diagnose.Diagnose(spans)
		_ = diagnose.Compare(ds)
		for _, d := range ds {
			_ = d.String()
		}
	})
}
