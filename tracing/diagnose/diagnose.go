package diagnose

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Kind names what a finding found. The values are stable: scripts and CI
// match on them.
type Kind string

// The kinds of finding, in the order a diagnosis lists them.
const (
	ErrorOrigin    Kind = "error-origin"
	LostMessage    Kind = "lost-message"
	TimeoutChain   Kind = "timeout-chain"
	RetryStorm     Kind = "retry-storm"
	PoolExhaustion Kind = "pool-exhaustion"
	FanOutFailure  Kind = "fan-out-failure"
	ErrorAbsorbed  Kind = "error-absorbed"
	DominantStep   Kind = "dominant-step"
)

var kindOrder = []Kind{ErrorOrigin, LostMessage, TimeoutChain, RetryStorm, PoolExhaustion, FanOutFailure, ErrorAbsorbed, DominantStep}

// Finding is one cause found in a trace: what, on which span, and the
// evidence, as a sentence for people and as fields for scripts.
type Finding struct {
	Kind Kind `json:"kind"`
	SpanRef
	// Summary is the evidence in one line.
	Summary string `json:"summary"`
	// Fields are the evidence as values: durations in seconds, counts,
	// attribute values, the names of the other spans involved.
	Fields map[string]any `json:"fields,omitempty"`

	start time.Time
}

// String returns "kind: service span: summary".
func (f Finding) String() string {
	return string(f.Kind) + ": " + f.SpanRef.String() + ": " + f.Summary
}

// Diagnosis is what one trace says about itself.
type Diagnosis struct {
	TraceID trace.TraceID `json:"trace_id"`
	// Root is the span that started the request: the earliest span whose
	// parent is not in the trace.
	Root SpanRef `json:"root"`
	// Duration runs from the root's start to the end of the last span that
	// descends from it, asynchronous work included.
	Duration time.Duration `json:"duration"`
	Spans    int           `json:"spans"`
	// CriticalPath is the chain of spans that determined Duration, in start
	// order, each with its own share.
	CriticalPath []Step    `json:"critical_path"`
	Findings     []Finding `json:"findings"`

	t    *tree
	lost map[int]bool // producer spans no consumer processed
}

// Has reports whether d holds a finding of kind k.
func (d *Diagnosis) Has(k Kind) bool {
	return slices.ContainsFunc(d.Findings, func(f Finding) bool { return f.Kind == k })
}

// Find returns the findings of kind k, in the diagnosis' order.
func (d *Diagnosis) Find(k Kind) []Finding {
	var out []Finding
	for _, f := range d.Findings {
		if f.Kind == k {
			out = append(out, f)
		}
	}
	return out
}

// Kinds returns the kind of each finding, in order.
func (d *Diagnosis) Kinds() []Kind {
	out := make([]Kind, len(d.Findings))
	for i, f := range d.Findings {
		out[i] = f.Kind
	}
	return out
}

// String returns the findings, one per line; "no finding" when there is
// none.
func (d *Diagnosis) String() string {
	if len(d.Findings) == 0 {
		return "no finding"
	}
	var b strings.Builder
	for i, f := range d.Findings {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(f.String())
	}
	return b.String()
}

// Option configures [Diagnose].
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	dominance   float64
	slowRequest time.Duration
}

func newConfig(opts []Option) config {
	c := config{dominance: 0.5, slowRequest: 100 * time.Millisecond}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithDominance sets the share of the critical path above which one step
// (a span, with its repeated child queries) is reported as [DominantStep].
//
// By default the share is 0.5. Values outside (0, 1] are ignored.
func WithDominance(share float64) Option {
	return optionFunc(func(c *config) {
		if share > 0 && share <= 1 {
			c.dominance = share
		}
	})
}

// WithSlowRequest sets how long a trace's critical path must last for a
// step of it to be reported as [DominantStep]: in a request faster than
// that, some step always takes most of the time, and none is worth
// chasing. Every other finding is reported whatever the duration.
//
// By default the critical path must last 100ms. Negative values are
// ignored.
func WithSlowRequest(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d >= 0 {
			c.slowRequest = d
		}
	})
}

// Diagnose groups spans by trace and diagnoses each trace, in the order of
// their first span's start. Spans of a trace may come in any order, from
// any number of services; the same span given twice counts once. Diagnose
// only reads spans, and keeps pointers into it.
//
// The cost is linear in the number of spans, plus sorting each span's
// children.
func Diagnose(spans []Span, opts ...Option) []Diagnosis {
	c := newConfig(opts)
	idx := make(map[trace.TraceID]int)
	var groups [][]*Span
	for i := range spans {
		s := &spans[i]
		g, ok := idx[s.TraceID]
		if !ok {
			g = len(groups)
			idx[s.TraceID] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], s)
	}
	out := make([]Diagnosis, 0, len(groups))
	for _, g := range groups {
		out = append(out, diagnose(g, &c))
	}
	slices.SortStableFunc(out, func(a, b Diagnosis) int {
		return a.t.spans[a.t.main].Start.Compare(b.t.spans[b.t.main].Start)
	})
	return out
}

func diagnose(spans []*Span, c *config) Diagnosis {
	t := newTree(spans)
	root := t.spans[t.main]
	d := Diagnosis{
		TraceID:  root.TraceID,
		Root:     root.ref(),
		Duration: t.effEnd[t.main].Sub(root.Start),
		Spans:    len(t.spans),
		t:        t,
	}
	d.CriticalPath = t.criticalPath()
	a := analysis{t: t, d: &d, cfg: c}
	a.errors()
	a.lostMessages()
	a.timeoutChains()
	a.retries()
	a.poolWaits()
	a.fanOuts()
	a.dominance()
	slices.SortStableFunc(d.Findings, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(slices.Index(kindOrder, x.Kind), slices.Index(kindOrder, y.Kind)), x.start.Compare(y.start))
	})
	return d
}
