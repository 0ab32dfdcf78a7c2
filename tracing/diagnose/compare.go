package diagnose

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Difference is an attribute value that separates the spans of one
// operation that went wrong from those that went well, over many traces.
type Difference struct {
	Service string `json:"service"`
	Span    string `json:"span"`
	// Outcome is what went wrong: "failed" (status Error), "lost" (a
	// message no consumer processed) or "slow" (at least twice the
	// operation's median duration).
	Outcome string `json:"outcome"`
	Key     string `json:"key"`
	Value   string `json:"value"`
	// Bad and Good count the spans of each outcome; BadWith and GoodWith
	// those that carry Key=Value.
	Bad      int `json:"bad"`
	BadWith  int `json:"bad_with"`
	Good     int `json:"good"`
	GoodWith int `json:"good_with"`
}

// BadShare is the share of the bad spans that carry the value.
func (d Difference) BadShare() float64 { return float64(d.BadWith) / float64(max(d.Bad, 1)) }

// GoodShare is the share of the good spans that carry the value.
func (d Difference) GoodShare() float64 { return float64(d.GoodWith) / float64(max(d.Good, 1)) }

// String reads "payments payments.charge: payment.provider.api_version=2025-01-15 in 100% of failed (1/1), 0% of the others (0/6)".
func (d Difference) String() string {
	return fmt.Sprintf("%s %s: %s=%s in %d%% of %s (%d/%d), %d%% of the others (%d/%d)",
		d.Service, d.Span, d.Key, d.Value, int(d.BadShare()*100), d.Outcome, d.BadWith, d.Bad,
		int(d.GoodShare()*100), d.GoodWith, d.Good)
}

// outcomeOrder ranks differences that separate equally well: a failure
// before a slowdown.
var outcomeOrder = []string{"failed", "lost", "slow"}

// markSlow calls slow for each of ms (four or more) that took at least
// twice their median duration.
func markSlow[M any](ms []M, dur func(M) time.Duration, slow func(i int)) {
	if len(ms) < 4 {
		return
	}
	ds := make([]time.Duration, len(ms))
	for i, m := range ms {
		ds[i] = dur(m)
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	median := sorted[len(sorted)/2]
	if median <= 0 {
		return
	}
	for i, d := range ds {
		if d >= 2*median {
			slow(i)
		}
	}
}

// symptoms are keys that describe a failure rather than explain it.
var symptoms = []attribute.Key{
	semconv.ErrorTypeKey, semconv.HTTPResponseStatusCodeKey, semconv.RPCResponseStatusCodeKey,
	semconv.DBResponseStatusCodeKey, semconv.OTelStatusCodeKey, semconv.OTelStatusDescriptionKey,
}

// Compare looks, over the traces diagnosed, at every operation (service,
// span name and kind) that went wrong in some traces and well in others
// (failed, lost, or, among four or more that went well, slow: at least
// twice their median duration),
// and returns the attribute values (span and resource attributes) carried
// by at least half of the bad spans and by a share of the good ones at
// least 50 points lower, most separating first. Keys whose every value is
// unique (order ids, message offsets) are skipped: they separate any two
// spans. So are keys that describe the failure itself (error.type, status
// codes).
//
// The cost is linear in the spans and their attributes.
func Compare(ds []Diagnosis) []Difference {
	type opKey struct {
		service, name string
		kind          trace.SpanKind
	}
	type member struct {
		s    *Span
		bad  string
		slow bool
	}
	ops := map[opKey][]member{}
	var order []opKey
	for i := range ds {
		d := &ds[i]
		if d.t == nil {
			continue
		}
		for j, s := range d.t.spans {
			bad := ""
			switch {
			case s.failed():
				bad = "failed"
			case d.lost[j]:
				bad = "lost"
			}
			k := opKey{s.Service, s.Name, s.Kind}
			if _, ok := ops[k]; !ok {
				order = append(order, k)
			}
			ops[k] = append(ops[k], member{s: s, bad: bad})
		}
	}
	var out []Difference
	for _, k := range order {
		ms := ops[k]
		outcomes := map[string]int{}
		good := 0
		for _, m := range ms {
			if m.bad == "" {
				good++
			} else {
				outcomes[m.bad]++
			}
		}
		markSlow(ms, func(m member) time.Duration { return m.s.Duration() }, func(i int) {
			if ms[i].bad == "" {
				ms[i].slow = true
				outcomes["slow"]++
			}
		})
		good -= outcomes["slow"]
		for _, outcome := range outcomeOrder {
			bad := outcomes[outcome]
			// The good spans: those that went well; for "slow", those that
			// went well and fast.
			ok := good
			if outcome != "slow" {
				ok += outcomes["slow"]
			}
			if bad == 0 || ok == 0 {
				continue
			}
			type count struct{ bad, good, all int }
			values := map[attribute.Key]map[string]*count{}
			var keys []attribute.Key
			class := func(m member) string {
				switch {
				case m.bad != "":
					return m.bad
				case m.slow && outcome == "slow":
					return "slow"
				}
				return ""
			}
			tally := func(m member, kv attribute.KeyValue) {
				if slices.Contains(symptoms, kv.Key) || strings.HasPrefix(string(kv.Key), "exception.") {
					return
				}
				vs := values[kv.Key]
				if vs == nil {
					vs = map[string]*count{}
					values[kv.Key] = vs
					keys = append(keys, kv.Key)
				}
				v := kv.Value.String()
				c := vs[v]
				if c == nil {
					c = &count{}
					vs[v] = c
				}
				c.all++
				switch class(m) {
				case outcome:
					c.bad++
				case "":
					c.good++
				}
			}
			for _, m := range ms {
				if cl := class(m); cl != outcome && cl != "" {
					continue
				}
				for _, kv := range m.s.Attributes {
					tally(m, kv)
				}
				for _, kv := range m.s.Resource {
					tally(m, kv)
				}
			}
			for _, key := range keys {
				vs := values[key]
				repeated := false
				for _, c := range vs {
					repeated = repeated || c.all > 1
				}
				if !repeated {
					continue // an identifier
				}
				for v, c := range vs {
					d := Difference{Service: k.service, Span: k.name, Outcome: outcome, Key: string(key), Value: v,
						Bad: bad, BadWith: c.bad, Good: ok, GoodWith: c.good}
					if d.BadShare() >= 0.5 && d.BadShare()-d.GoodShare() >= 0.5 {
						out = append(out, d)
					}
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Difference) int {
		return cmp.Or(
			cmp.Compare(b.BadShare()-b.GoodShare(), a.BadShare()-a.GoodShare()),
			cmp.Compare(slices.Index(outcomeOrder, a.Outcome), slices.Index(outcomeOrder, b.Outcome)),
			cmp.Compare(b.Bad, a.Bad),
			strings.Compare(a.Service, b.Service), strings.Compare(a.Span, b.Span),
			strings.Compare(a.Key, b.Key), strings.Compare(a.Value, b.Value))
	})
	return out
}
