package waterfall

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Exporter is a span exporter that prints each trace as a waterfall once its
// local root span has ended.
//
// ExportSpans only buffers spans, under a mutex, and so is cheap enough for
// [sdktrace.NewSimpleSpanProcessor], which prints traces without the batch
// processor's delay. Printing happens on a timer goroutine: [WithLinger]
// after the last local root span of a trace ended (a span whose parent is
// remote or absent), or [WithTimeout] after the trace's first span arrived if
// no local root ends. Spans arriving after their trace was printed are
// printed later as a continuation of it. Memory is bounded by [WithMaxSpans].
//
// One Exporter may be shared by several tracer providers in one process (one
// per service): spans of all services are grouped by trace id.
type Exporter struct {
	cfg   config
	w     io.Writer
	width int
	color bool

	wmu sync.Mutex // serialises writes to w

	mu       sync.Mutex
	traces   map[trace.TraceID]*pending
	buffered int
	printed  map[trace.TraceID]struct{} // recently printed, to label continuations
	order    []trace.TraceID            // printed, oldest first, bounded
	stopped  bool
	printing int        // traces taken by timers and not yet written
	idle     *sync.Cond // on mu: broadcast when printing drops to zero
}

type pending struct {
	id        trace.TraceID
	spans     []sdktrace.ReadOnlySpan
	first     time.Time
	due       time.Time
	rootEnded bool
	timer     *time.Timer
}

var _ sdktrace.SpanExporter = (*Exporter)(nil)

// maxPrinted bounds the memory of which traces were printed.
const maxPrinted = 1024

// NewExporter returns an exporter printing waterfalls to w. Writes to w are
// serialised; write errors are reported through [otel.Handle].
func NewExporter(w io.Writer, opts ...Option) *Exporter {
	c := newConfig(opts)
	e := &Exporter{
		cfg:     c,
		w:       w,
		width:   c.widthFor(w),
		color:   c.colorFor(w),
		traces:  make(map[trace.TraceID]*pending),
		printed: make(map[trace.TraceID]struct{}),
	}
	e.idle = sync.NewCond(&e.mu)
	return e
}

// ExportSpans buffers spans until their trace is printed. It never blocks on
// w and never returns an error.
func (e *Exporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	now := time.Now()
	var evicted []*pending
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return nil
	}
	for _, s := range spans {
		id := s.SpanContext().TraceID()
		p := e.traces[id]
		if p == nil {
			p = &pending{id: id, first: now, due: now.Add(e.cfg.timeout)}
			e.traces[id] = p
		}
		p.spans = append(p.spans, s)
		e.buffered++
		if !s.Parent().IsValid() || s.Parent().IsRemote() {
			p.rootEnded = true
			p.due = now.Add(e.cfg.linger)
		}
		e.arm(p, now)
	}
	for e.buffered > e.cfg.maxSpans && len(e.traces) > 0 {
		evicted = append(evicted, e.take(e.oldest()))
	}
	e.mu.Unlock()
	e.print(evicted)
	return nil
}

// arm schedules p's timer for p.due. Called with e.mu held.
func (e *Exporter) arm(p *pending, now time.Time) {
	d := p.due.Sub(now)
	if p.timer == nil {
		id := p.id
		p.timer = time.AfterFunc(d, func() { e.fire(id) })
		return
	}
	p.timer.Reset(d)
}

func (e *Exporter) fire(id trace.TraceID) {
	e.mu.Lock()
	p := e.traces[id]
	if p == nil || e.stopped {
		e.mu.Unlock()
		return
	}
	if now := time.Now(); now.Before(p.due) {
		e.arm(p, now)
		e.mu.Unlock()
		return
	}
	e.take(p)
	e.printing++
	e.mu.Unlock()
	e.print([]*pending{p})
	e.mu.Lock()
	if e.printing--; e.printing == 0 {
		e.idle.Broadcast()
	}
	e.mu.Unlock()
}

// waitPrinted waits until every trace a timer took has been written, so
// that ForceFlush and Shutdown return only when the output is complete.
func (e *Exporter) waitPrinted() {
	e.mu.Lock()
	for e.printing > 0 {
		e.idle.Wait()
	}
	e.mu.Unlock()
}

// oldest returns the pending trace seen first. Called with e.mu held.
func (e *Exporter) oldest() *pending {
	var o *pending
	for _, p := range e.traces {
		if o == nil || p.first.Before(o.first) {
			o = p
		}
	}
	return o
}

// take removes p from the buffer. Called with e.mu held.
func (e *Exporter) take(p *pending) *pending {
	delete(e.traces, p.id)
	e.buffered -= len(p.spans)
	p.timer.Stop()
	return p
}

// takeAll removes every pending trace, oldest first. Called with e.mu held.
func (e *Exporter) takeAll() []*pending {
	all := make([]*pending, 0, len(e.traces))
	for _, p := range e.traces {
		all = append(all, p)
	}
	slices.SortFunc(all, func(a, b *pending) int { return a.first.Compare(b.first) })
	for _, p := range all {
		e.take(p)
	}
	return all
}

func (e *Exporter) print(ps []*pending) {
	if len(ps) == 0 {
		return
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	var buf bytes.Buffer
	r := renderer{cfg: &e.cfg, traceKeys: e.cfg.headerKeys(), width: e.width, color: e.color, buf: &buf}
	for _, p := range ps {
		note := ""
		if e.seen(p.id) {
			note = "continued"
		}
		if !p.rootEnded {
			note = joinNote(note, "root span not ended")
		}
		r.trace(p.spans, note)
		buf.WriteByte('\n')
	}
	if _, err := e.w.Write(buf.Bytes()); err != nil {
		otel.Handle(fmt.Errorf("waterfall: writing traces: %w", err))
	}
}

// seen records that id was printed and reports whether it had been before.
func (e *Exporter) seen(id trace.TraceID) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.printed[id]; ok {
		return true
	}
	e.printed[id] = struct{}{}
	e.order = append(e.order, id)
	if len(e.order) > maxPrinted {
		delete(e.printed, e.order[0])
		e.order = e.order[1:]
	}
	return false
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

// ForceFlush prints every buffered trace now, whether or not its root has
// ended.
func (e *Exporter) ForceFlush(context.Context) error {
	e.mu.Lock()
	all := e.takeAll()
	e.mu.Unlock()
	e.print(all)
	e.waitPrinted()
	return nil
}

// Shutdown prints every buffered trace and stops the exporter; later spans are
// discarded. It is safe to call more than once.
func (e *Exporter) Shutdown(context.Context) error {
	e.mu.Lock()
	all := e.takeAll()
	e.stopped = true
	e.mu.Unlock()
	e.print(all)
	e.waitPrinted()
	return nil
}
