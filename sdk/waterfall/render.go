package waterfall

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/spanconv"
	"github.com/otelkit/otelkit/tracing/diagnose"
)

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
	ansiRed   = "\x1b[31m"
	ansiCyan  = "\x1b[36m"

	maxServiceWidth = 20
	maxNameWidth    = 48
	durationWidth   = 7
	minBarWidth     = 10
	maxBarWidth     = 60
)

// Render writes spans as indented waterfalls, one per trace, traces ordered
// by their first span's start. Each line shows the span's service, its name
// indented under its parent, a bar on the trace's shared time axis, the
// duration, and for failed spans the status and error details. A span whose
// parent is not among spans is drawn as a root.
//
// Render holds no state; it is safe to call concurrently.
func Render(w io.Writer, spans []sdktrace.ReadOnlySpan, opts ...Option) error {
	c := newConfig(opts)
	var buf bytes.Buffer
	r := renderer{cfg: &c, traceKeys: c.headerKeys(), width: c.widthFor(w), color: c.colorFor(w), buf: &buf}
	for i, t := range groupTraces(spans) {
		if i > 0 {
			buf.WriteByte('\n')
		}
		r.trace(t, "")
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// groupTraces splits spans by trace id, ordering traces by their earliest
// span start and keeping the input order within a trace.
func groupTraces(spans []sdktrace.ReadOnlySpan) [][]sdktrace.ReadOnlySpan {
	idx := make(map[trace.TraceID]int)
	var out [][]sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s == nil {
			continue
		}
		id := s.SpanContext().TraceID()
		i, ok := idx[id]
		if !ok {
			i = len(out)
			idx[id] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], s)
	}
	slices.SortStableFunc(out, func(a, b []sdktrace.ReadOnlySpan) int {
		return earliest(a).Compare(earliest(b))
	})
	return out
}

func earliest(spans []sdktrace.ReadOnlySpan) time.Time {
	t := spans[0].StartTime()
	for _, s := range spans[1:] {
		if s.StartTime().Before(t) {
			t = s.StartTime()
		}
	}
	return t
}

type renderer struct {
	cfg       *config
	traceKeys []attribute.Key // of the header, resolved once per rendering
	width     int
	color     bool
	buf       *bytes.Buffer
}

type node struct {
	span     sdktrace.ReadOnlySpan
	children []*node
}

type line struct {
	service string
	name    string // tree prefix + span name
	indent  string // tree prefix of a details line under the span
	span    sdktrace.ReadOnlySpan
}

func endOf(s sdktrace.ReadOnlySpan) time.Time {
	if e := s.EndTime(); !e.IsZero() && !e.Before(s.StartTime()) {
		return e
	}
	return s.StartTime()
}

// trace renders the spans of one trace; note is appended to the header.
func (r *renderer) trace(spans []sdktrace.ReadOnlySpan, note string) {
	roots := buildTree(spans)
	var lines []line
	for _, root := range roots {
		lines = flatten(lines, root, "", "")
	}

	start, end := spans[0].StartTime(), endOf(spans[0])
	failed := 0
	for _, s := range spans {
		if s.StartTime().Before(start) {
			start = s.StartTime()
		}
		if e := endOf(s); e.After(end) {
			end = e
		}
		if s.Status().Code == codes.Error {
			failed++
		}
	}
	total := end.Sub(start)

	header := r.traceAttrs(spans)
	r.header(spans, roots[0].span, total, failed, header, note)
	if r.cfg.diagnose && note == "" {
		// A continuation, or a trace whose root has not ended, is a part
		// of a trace: its diagnosis would be about the part.
		r.diagnosis(spans)
	}

	svcW, nameW := 0, 0
	for _, l := range lines {
		svcW = max(svcW, utf8.RuneCountInString(l.service))
		nameW = max(nameW, utf8.RuneCountInString(l.name))
	}
	svcW = min(svcW, maxServiceWidth, r.width/5)
	// Columns: service, name, bar between bars, duration.
	avail := r.width - svcW - 1 - 1 - 2 - 2 - durationWidth
	nameW = max(min(nameW, maxNameWidth, avail-minBarWidth), 1)
	// The bar takes two thirds of what is left, the status the rest.
	barW := min(max((avail-nameW)*2/3, minBarWidth), maxBarWidth, max(avail-nameW, 1))

	for _, l := range lines {
		r.span(l, svcW, nameW, barW, start, total, header)
	}
}

func (r *renderer) header(spans []sdktrace.ReadOnlySpan, root sdktrace.ReadOnlySpan, total time.Duration, failed int, attrs []attribute.KeyValue, note string) {
	var b strings.Builder
	b.WriteString("trace ")
	b.WriteString(root.SpanContext().TraceID().String())
	b.WriteString("  ")
	b.WriteString(root.Name())
	b.WriteString("  ")
	b.WriteString(formatDuration(total))
	fmt.Fprintf(&b, "  %d span", len(spans))
	if len(spans) != 1 {
		b.WriteByte('s')
	}
	if failed > 0 {
		fmt.Fprintf(&b, ", %d failed", failed)
	}
	for _, kv := range attrs {
		b.WriteString("  ")
		writeAttr(&b, kv)
	}
	if note != "" {
		b.WriteString("  (")
		b.WriteString(note)
		b.WriteByte(')')
	}
	r.styled(truncate(b.String(), r.width), ansiBold)
	r.buf.WriteByte('\n')
}

// diagnosis writes the findings of the trace, one line each, under its
// header.
func (r *renderer) diagnosis(spans []sdktrace.ReadOnlySpan) {
	for _, d := range diagnose.Diagnose(spanconv.FromSDK(spans)) {
		for _, f := range d.Findings {
			// A finding is wrapped, not cut: its end is the evidence.
			prefix := "⚑ "
			for _, l := range wrap(oneLine(f.String()), max(r.width-2, 20)) {
				r.buf.WriteString(prefix)
				r.styled(l, ansiRed)
				r.buf.WriteByte('\n')
				prefix = "  "
			}
		}
	}
}

func (r *renderer) span(l line, svcW, nameW, barW int, start time.Time, total time.Duration, header []attribute.KeyValue) {
	s := l.span
	failed := s.Status().Code == codes.Error
	var b strings.Builder

	r.buf.WriteString(pad(truncate(l.service, svcW), svcW))
	r.buf.WriteByte(' ')
	name := pad(truncate(l.name, nameW), nameW)
	if failed {
		r.styled(name, ansiRed)
	} else {
		r.buf.WriteString(name)
	}
	r.buf.WriteString(" |")
	from, to := cells(s.StartTime().Sub(start), endOf(s).Sub(start), total, barW)
	r.buf.WriteString(strings.Repeat(" ", from))
	style := ansiCyan
	if failed {
		style = ansiRed
	}
	r.styled(strings.Repeat("█", to-from), style)
	r.buf.WriteString(strings.Repeat(" ", barW-to))
	r.buf.WriteString("| ")
	d := formatDuration(endOf(s).Sub(s.StartTime()))
	r.buf.WriteString(strings.Repeat(" ", max(durationWidth-len(d), 0)))
	r.buf.WriteString(d)

	used := svcW + 1 + nameW + 2 + barW + 2 + max(durationWidth, len(d))
	status := ""
	if failed {
		status = "ERROR"
		if desc := s.Status().Description; desc != "" {
			b.WriteString(oneLine(desc))
		}
		if msg := exceptionMessage(s); msg != "" && msg != s.Status().Description {
			if b.Len() > 0 {
				b.WriteString(": ")
			}
			b.WriteString(oneLine(msg))
		}
	}
	for _, kv := range r.spanAttrs(s, header) {
		if b.Len() > 0 {
			b.WriteString("  ")
		}
		writeAttr(&b, kv)
	}
	details := b.String()
	if !failed {
		style = ansiDim
	}
	room := r.width - used - 2
	inline := status
	if details != "" {
		inline = strings.TrimSpace(status + " " + details)
	}
	if inline == "" {
		r.buf.WriteByte('\n')
		return
	}
	if utf8.RuneCountInString(inline) <= room {
		r.buf.WriteString("  ")
		r.styled(inline, style)
		r.buf.WriteByte('\n')
		return
	}
	// Too long for the rest of the line: the status stays on it, the
	// details go on a line of their own under the span's name.
	if status != "" && room > 0 {
		r.buf.WriteString("  ")
		r.styled(truncate(status, room), style)
	}
	r.buf.WriteByte('\n')
	if details == "" {
		return
	}
	indent := strings.Repeat(" ", svcW+1) + l.indent
	r.buf.WriteString(indent)
	r.styled(truncate(details, max(r.width-utf8.RuneCountInString(indent), 1)), style)
	r.buf.WriteByte('\n')
}

func (r *renderer) styled(s, style string) {
	if !r.color || s == "" {
		r.buf.WriteString(s)
		return
	}
	r.buf.WriteString(style)
	r.buf.WriteString(s)
	r.buf.WriteString(ansiReset)
}

// spanAttrs returns the configured attributes s carries, plus the trace
// attributes whose value on s differs from the header's.
func (r *renderer) spanAttrs(s sdktrace.ReadOnlySpan, header []attribute.KeyValue) []attribute.KeyValue {
	var out []attribute.KeyValue
	attrs := s.Attributes()
	for _, k := range r.cfg.spanKeys {
		for _, kv := range attrs {
			if kv.Key != k {
				continue
			}
			if k == semconv.HTTPResponseStatusCodeKey && kv.Value.Type() == attribute.INT64 && kv.Value.AsInt64() < 400 {
				break
			}
			out = append(out, kv)
			break
		}
	}
	for _, kv := range attrs {
		if !slices.Contains(r.traceKeys, kv.Key) {
			continue
		}
		i := slices.IndexFunc(header, func(h attribute.KeyValue) bool { return h.Key == kv.Key })
		if i < 0 || header[i].Value != kv.Value {
			out = append(out, kv)
		}
	}
	return out
}

// traceAttrs returns the first value of each trace key found on spans,
// earliest span first.
func (r *renderer) traceAttrs(spans []sdktrace.ReadOnlySpan) []attribute.KeyValue {
	byStart := slices.Clone(spans)
	slices.SortStableFunc(byStart, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	var out []attribute.KeyValue
	for _, k := range r.traceKeys {
	search:
		for _, s := range byStart {
			for _, kv := range s.Attributes() {
				if kv.Key == k {
					out = append(out, kv)
					break search
				}
			}
		}
	}
	return out
}

func exceptionMessage(s sdktrace.ReadOnlySpan) string {
	events := s.Events()
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Name != semconv.ExceptionEventName {
			continue
		}
		for _, kv := range events[i].Attributes {
			if kv.Key == semconv.ExceptionMessageKey {
				return kv.Value.String()
			}
		}
	}
	return ""
}

func buildTree(spans []sdktrace.ReadOnlySpan) []*node {
	nodes := make(map[trace.SpanID]*node, len(spans))
	all := make([]*node, 0, len(spans))
	for _, s := range spans {
		id := s.SpanContext().SpanID()
		if _, dup := nodes[id]; dup {
			continue // the same span exported twice: keep the first
		}
		n := &node{span: s}
		nodes[id] = n
		all = append(all, n)
	}
	var roots []*node
	for _, n := range all {
		parent := n.span.Parent()
		p, ok := nodes[parent.SpanID()]
		if !parent.IsValid() || !ok || p == n {
			roots = append(roots, n)
			continue
		}
		p.children = append(p.children, n)
	}
	byStart := func(a, b *node) int {
		return cmp.Or(a.span.StartTime().Compare(b.span.StartTime()), strings.Compare(a.span.Name(), b.span.Name()))
	}
	for _, n := range nodes {
		slices.SortStableFunc(n.children, byStart)
	}
	slices.SortStableFunc(roots, byStart)
	return roots
}

// flatten appends n and its descendants in display order. glyph is n's own
// connector; prefix is what its children's connectors follow.
func flatten(lines []line, n *node, prefix, glyph string) []line {
	indent := prefix + "   "
	if len(n.children) > 0 {
		indent = prefix + "│  "
	}
	lines = append(lines, line{service: serviceName(n.span), name: glyph + n.span.Name(), indent: indent, span: n.span})
	for i, c := range n.children {
		g, next := "├─ ", "│  "
		if i == len(n.children)-1 {
			g, next = "└─ ", "   "
		}
		lines = flatten(lines, c, prefix+next, prefix+g)
	}
	return lines
}

func serviceName(s sdktrace.ReadOnlySpan) string {
	if res := s.Resource(); res != nil {
		if v, ok := res.Set().Value(semconv.ServiceNameKey); ok {
			return v.String()
		}
	}
	return "?"
}

// cells maps the interval [from, to) of a trace lasting total onto a bar of
// width columns; every span gets at least one cell.
func cells(from, to, total time.Duration, width int) (int, int) {
	if total <= 0 {
		return 0, width
	}
	a := int(int64(from) * int64(width) / int64(total))
	b := int((int64(to)*int64(width) + int64(total) - 1) / int64(total))
	a = min(max(a, 0), width-1)
	b = min(max(b, a+1), width)
	return a, b
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return strconv.FormatInt(int64(d/time.Microsecond), 10) + "µs"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	case d < time.Second:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	case d < 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	default:
		return d.Round(time.Second).String()
	}
}

func writeAttr(b *strings.Builder, kv attribute.KeyValue) {
	b.WriteString(string(kv.Key))
	b.WriteByte('=')
	b.WriteString(oneLine(kv.Value.String()))
}

// oneLine replaces control characters, and the bidirectional controls that
// reorder what a terminal shows, so that a value cannot break the layout,
// inject terminal escapes or disguise itself.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Bidi_Control, r) {
			return ' '
		}
		return r
	}, s)
}

// wrap splits s into lines of at most n runes, at spaces where it can.
func wrap(s string, n int) []string {
	var out []string
	for utf8.RuneCountInString(s) > n {
		r := []rune(s)
		cut := n
		for i := n; i > n/2; i-- {
			if r[i] == ' ' {
				cut = i
				break
			}
		}
		out = append(out, strings.TrimRight(string(r[:cut]), " "))
		s = strings.TrimLeft(string(r[cut:]), " ")
	}
	return append(out, s)
}

func truncate(s string, n int) string {
	s = oneLine(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	return string([]rune(s)[:n-1]) + "…"
}

func pad(s string, n int) string {
	if c := utf8.RuneCountInString(s); c < n {
		return s + strings.Repeat(" ", n-c)
	}
	return s
}
