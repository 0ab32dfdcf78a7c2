package waterfall_test

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/sdk/waterfall"
)

// FuzzRender feeds span names, service names, status descriptions and
// attribute values, all set by application code or copied from requests,
// through the renderer: the output must stay within the width and hold no
// control character but the line feeds.
func FuzzRender(f *testing.F) {
	f.Add("POST /checkout", "gateway", "boom", "ord-42", uint8(80))
	f.Add("\x1b[2J\x1b]0;x\x07", "svc\r\n", "a\nb", "\u202e\u0085", uint8(40))
	f.Add(strings.Repeat("長い", 60), "", "", strings.Repeat("x", 300), uint8(255))
	f.Fuzz(func(t *testing.T, name, service, desc, value string, width uint8) {
		ms := time.Millisecond
		root := stub(1, 1, 0, false, service, name, 0, 10*ms, attribute.String("order.id", value))
		child := stub(1, 2, 1, false, service, name, 2*ms, 5*ms, attribute.String("payment.provider", value))
		child.Status.Code, child.Status.Description = codes.Error, desc
		var buf bytes.Buffer
		w := max(int(width), 40)
		if err := waterfall.Render(&buf, tracetest.SpanStubs{root, child}.Snapshots(), waterfall.WithWidth(w), waterfall.WithColor(false)); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for l := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
			if n := utf8.RuneCountInString(l); n > w {
				t.Errorf("line of %d runes at width %d: %q", n, w, l)
			}
			for _, r := range l {
				if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Bidi_Control, r) {
					t.Fatalf("control character %U in %q", r, l)
				}
			}
		}
	})
}
