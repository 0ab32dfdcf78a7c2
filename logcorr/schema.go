package logcorr

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"go.opentelemetry.io/otel/trace"
)

// Schema names the correlation fields and decides how the ids are written,
// so that the log backend recognises them without a parsing rule. The zero
// Schema is [OpenTelemetry].
type Schema struct {
	traceKey, spanKey, flagsKey string
	enc                         encoding
	project                     string // GoogleCloud only
}

type encoding uint8

const (
	encHex        encoding = iota // lowercase hex, flags as two hex digits
	encDatadog64                  // decimal of the low 64 bits of the trace id
	encDatadog128                 // 32 hex digits for the trace id, decimal span id
	encGoogle                     // projects/ID/traces/TRACE, hex span id, bool flag
)

// OpenTelemetry is the schema of the OpenTelemetry specification "Trace
// Context in Non-OTLP Log Formats": trace_id (32 lowercase hex digits),
// span_id (16 lowercase hex digits) and trace_flags (2 hex digits, "01" when
// sampled). Grafana Loki derived fields and most collectors look for these.
func OpenTelemetry() Schema {
	return Schema{traceKey: "trace_id", spanKey: "span_id", flagsKey: "trace_flags", enc: encHex}
}

// ECS is the Elastic Common Schema: trace.id and span.id in lowercase hex.
// ECS has no field for the sampled flag, so none is written.
func ECS() Schema {
	return Schema{traceKey: "trace.id", spanKey: "span.id", enc: encHex}
}

// Datadog is the schema Datadog's log pipeline correlates on: dd.trace_id and
// dd.span_id as decimal strings, the trace id reduced to its low 64 bits as
// Datadog's 64-bit trace ids are. Strings, not numbers, because JSON readers
// that parse numbers as float64 lose ids above 2^53.
func Datadog() Schema {
	return Schema{traceKey: "dd.trace_id", spanKey: "dd.span_id", enc: encDatadog64}
}

// Datadog128 is [Datadog] with the full 128-bit trace id as 32 lowercase hex
// digits, for accounts with 128-bit trace id logging enabled.
func Datadog128() Schema {
	return Schema{traceKey: "dd.trace_id", spanKey: "dd.span_id", enc: encDatadog128}
}

// GoogleCloud is the schema of Cloud Logging's structured logs:
// logging.googleapis.com/trace as projects/PROJECT/traces/TRACE,
// logging.googleapis.com/spanId in hex and logging.googleapis.com/trace_sampled
// as a boolean. projectID is the Google Cloud project that holds the traces.
func GoogleCloud(projectID string) Schema {
	return Schema{
		traceKey: "logging.googleapis.com/trace",
		spanKey:  "logging.googleapis.com/spanId",
		flagsKey: "logging.googleapis.com/trace_sampled",
		enc:      encGoogle,
		project:  projectID,
	}
}

// CustomSchema writes the ids in lowercase hex and the flags as two hex
// digits under the given keys. An empty key leaves that field out.
func CustomSchema(traceIDKey, spanIDKey, traceFlagsKey string) Schema {
	return Schema{traceKey: traceIDKey, spanKey: spanIDKey, flagsKey: traceFlagsKey, enc: encHex}
}

func (s Schema) orDefault() Schema {
	if s == (Schema{}) {
		return OpenTelemetry()
	}
	return s
}

// ids is the text of one span context in a schema. Every string is a slice
// of one backing string, so formatting costs a single allocation.
type ids struct {
	trace, span, flags, url string
}

// format renders sc in schema s (and the trace URL template, if any) with
// one allocation: everything is appended to a stack buffer that is converted
// to a string once and then sliced.
func (s *Schema) format(sc trace.SpanContext, url []urlPart) ids {
	var stack [112]byte
	buf := stack[:0]
	tid, sid := sc.TraceID(), sc.SpanID()

	var marks [4]int // ends of trace, span, flags, url
	switch s.enc {
	case encHex:
		buf = hex.AppendEncode(buf, tid[:])
		marks[0] = len(buf)
		buf = hex.AppendEncode(buf, sid[:])
		marks[1] = len(buf)
		buf = appendHexByte(buf, byte(sc.TraceFlags()))
	case encDatadog64:
		buf = strconv.AppendUint(buf, binary.BigEndian.Uint64(tid[8:]), 10)
		marks[0] = len(buf)
		buf = strconv.AppendUint(buf, binary.BigEndian.Uint64(sid[:]), 10)
		marks[1] = len(buf)
	case encDatadog128:
		buf = hex.AppendEncode(buf, tid[:])
		marks[0] = len(buf)
		buf = strconv.AppendUint(buf, binary.BigEndian.Uint64(sid[:]), 10)
		marks[1] = len(buf)
	case encGoogle:
		buf = append(buf, "projects/"...)
		buf = append(buf, s.project...)
		buf = append(buf, "/traces/"...)
		buf = hex.AppendEncode(buf, tid[:])
		marks[0] = len(buf)
		buf = hex.AppendEncode(buf, sid[:])
		marks[1] = len(buf)
	}
	marks[2] = len(buf)
	for _, p := range url {
		switch p.kind {
		case partText:
			buf = append(buf, p.text...)
		case partTraceID:
			buf = hex.AppendEncode(buf, tid[:])
		case partSpanID:
			buf = hex.AppendEncode(buf, sid[:])
		}
	}
	marks[3] = len(buf)

	all := string(buf)
	return ids{
		trace: all[:marks[0]],
		span:  all[marks[0]:marks[1]],
		flags: all[marks[1]:marks[2]],
		url:   all[marks[2]:marks[3]],
	}
}

func appendHexByte(b []byte, v byte) []byte {
	const digits = "0123456789abcdef"
	return append(b, digits[v>>4], digits[v&0x0f])
}
