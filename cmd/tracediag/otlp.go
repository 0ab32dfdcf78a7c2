package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/otelkit/otelkit/tracing/diagnose"
)

// maxLine bounds one line of an OTLP JSON lines file, and a response of
// the query API: a larger one is an error, not an allocation.
const maxLine = 64 << 20

// readOTLPLines reads OTLP JSON lines, as the OpenTelemetry Collector's
// file exporter writes them: one TracesData (ExportTraceServiceRequest)
// object per line. Blank lines are skipped. A file whose first line is a
// lone "{" is read as one indented document instead, such as a saved
// answer of Jaeger's query API; it may be at most maxLine long.
func readOTLPLines(r io.Reader) ([]diagnose.Span, error) {
	br := bufio.NewReader(r)
	first, _ := br.Peek(4096) // fewer bytes at the end of a short file
	if line, _, _ := bytes.Cut(first, []byte("\n")); string(bytes.TrimSpace(line)) == "{" {
		return readDocument(br)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var out []diagnose.Span
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		spans, err := decodeOTLP(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, spans...)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("a line is longer than %d MiB", maxLine>>20)
		}
		return nil, err
	}
	return out, nil
}

func readDocument(r io.Reader) ([]diagnose.Span, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxLine+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxLine {
		return nil, fmt.Errorf("a document is longer than %d MiB", maxLine>>20)
	}
	return decodeOTLP(b)
}

// decodeOTLP decodes one OTLP JSON object: TracesData, or the query API's
// answer wrapping it in "result".
//
// OTLP JSON differs from the protobuf JSON mapping in one way that matters
// here: trace and span ids are hex, not base64. They are rewritten before
// protojson decodes the rest (enums as numbers or names, 64-bit integers as
// strings or numbers).
func decodeOTLP(b []byte) ([]diagnose.Span, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not OTLP JSON: %w", err)
	}
	if e, ok := doc["error"].(map[string]any); ok {
		return nil, fmt.Errorf("error response: %v", e["message"])
	}
	if r, ok := doc["result"].(map[string]any); ok {
		doc = r
	}
	if err := hexIDs(doc); err != nil {
		return nil, err
	}
	fixed, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var td tracepb.TracesData
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(fixed, &td); err != nil {
		return nil, fmt.Errorf("not OTLP traces: %w", err)
	}
	return fromOTLP(&td), nil
}

// hexIDs rewrites the hex ids of every span and link of doc as base64.
func hexIDs(doc map[string]any) error {
	for _, rs := range list(doc["resourceSpans"]) {
		for _, ss := range list(obj(rs)["scopeSpans"]) {
			for _, s := range list(obj(ss)["spans"]) {
				span := obj(s)
				if err := rewrite(span, "traceId", "spanId", "parentSpanId"); err != nil {
					return err
				}
				for _, l := range list(span["links"]) {
					if err := rewrite(obj(l), "traceId", "spanId"); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func rewrite(m map[string]any, keys ...string) error {
	for _, k := range keys {
		s, ok := m[k].(string)
		if !ok || s == "" {
			continue
		}
		raw, err := hex.DecodeString(s)
		if err != nil || (len(raw) != 8 && len(raw) != 16) {
			return fmt.Errorf("%s %q is not a hex id", k, s)
		}
		m[k] = base64.StdEncoding.EncodeToString(raw)
	}
	return nil
}

func fromOTLP(td *tracepb.TracesData) []diagnose.Span {
	var out []diagnose.Span
	for _, rs := range td.GetResourceSpans() {
		res := attrs(rs.GetResource().GetAttributes())
		service := ""
		for _, kv := range res {
			if kv.Key == semconv.ServiceNameKey {
				service = kv.Value.String()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				d := diagnose.Span{
					Name:          s.GetName(),
					Kind:          trace.SpanKind(s.GetKind()),
					Service:       service,
					Start:         unixNano(s.GetStartTimeUnixNano()),
					End:           unixNano(s.GetEndTimeUnixNano()),
					StatusMessage: s.GetStatus().GetMessage(),
					Attributes:    attrs(s.GetAttributes()),
					Resource:      res,
				}
				copy(d.TraceID[:], s.GetTraceId())
				copy(d.SpanID[:], s.GetSpanId())
				copy(d.ParentID[:], s.GetParentSpanId())
				if d.Kind > trace.SpanKindConsumer {
					d.Kind = trace.SpanKindUnspecified
				}
				switch s.GetStatus().GetCode() {
				case tracepb.Status_STATUS_CODE_ERROR:
					d.Status = codes.Error
				case tracepb.Status_STATUS_CODE_OK:
					d.Status = codes.Ok
				}
				for _, e := range s.GetEvents() {
					d.Events = append(d.Events, diagnose.Event{Name: e.GetName(), Time: unixNano(e.GetTimeUnixNano()), Attributes: attrs(e.GetAttributes())})
				}
				for _, l := range s.GetLinks() {
					var link diagnose.Link
					copy(link.TraceID[:], l.GetTraceId())
					copy(link.SpanID[:], l.GetSpanId())
					link.Attributes = attrs(l.GetAttributes())
					d.Links = append(d.Links, link)
				}
				out = append(out, d)
			}
		}
	}
	return out
}

func unixNano(n uint64) time.Time {
	if n > 1<<63-1 {
		n = 1<<63 - 1
	}
	return time.Unix(0, int64(n)).UTC()
}

func attrs(kvs []*commonpb.KeyValue) []attribute.KeyValue {
	if len(kvs) == 0 {
		return nil
	}
	out := make([]attribute.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, attribute.KeyValue{Key: attribute.Key(kv.GetKey()), Value: value(kv.GetValue())})
	}
	return out
}

// value converts an OTLP value; a byte string becomes base64 text and a
// map or a mixed array its JSON, since attributes cannot hold them.
func value(v *commonpb.AnyValue) attribute.Value {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return attribute.StringValue(x.StringValue)
	case *commonpb.AnyValue_BoolValue:
		return attribute.BoolValue(x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		return attribute.Int64Value(x.IntValue)
	case *commonpb.AnyValue_DoubleValue:
		return attribute.Float64Value(x.DoubleValue)
	case *commonpb.AnyValue_BytesValue:
		return attribute.StringValue(base64.StdEncoding.EncodeToString(x.BytesValue))
	case *commonpb.AnyValue_ArrayValue:
		vals := x.ArrayValue.GetValues()
		var ss []string
		var is []int64
		var fs []float64
		var bs []bool
		for _, e := range vals {
			switch y := e.GetValue().(type) {
			case *commonpb.AnyValue_StringValue:
				ss = append(ss, y.StringValue)
			case *commonpb.AnyValue_IntValue:
				is = append(is, y.IntValue)
			case *commonpb.AnyValue_DoubleValue:
				fs = append(fs, y.DoubleValue)
			case *commonpb.AnyValue_BoolValue:
				bs = append(bs, y.BoolValue)
			}
		}
		switch len(vals) {
		case len(ss):
			return attribute.StringSliceValue(ss)
		case len(is):
			return attribute.Int64SliceValue(is)
		case len(fs):
			return attribute.Float64SliceValue(fs)
		case len(bs):
			return attribute.BoolSliceValue(bs)
		}
	}
	if v == nil || v.GetValue() == nil {
		return attribute.StringValue("")
	}
	b, _ := protojson.Marshal(v)
	return attribute.StringValue(string(b))
}
