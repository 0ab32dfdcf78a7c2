package logcorr

import (
	"log/slog"
	"testing"
	"time"

	"github.com/otelkit/otelkit/tracing"
)

// BenchmarkRedactRecord measures redactRecord alone on the clean line of
// the bench module's BenchmarkSlogRedactionPaired, for profiling.
func BenchmarkRedactRecord(b *testing.B) {
	red := tracing.NewLiteralCache(tracing.DefaultRedactor())
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "order accepted", 0)
	r.AddAttrs(slog.String("order", "ord-1042"), slog.Int("items", 3))
	b.ReportAllocs()
	for b.Loop() {
		rr := r
		redactRecord(red, &rr)
	}
}
