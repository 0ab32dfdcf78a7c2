package diagnose

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Difference is an attribute value that separates the spans of one
// operation that went wrong from those that went well, over many traces.
type Difference struct {
	Service string `json:"service"`
	Span    string `json:"span"`
	// Outcome is what went wrong: "failed" (status Error) or "lost" (a
	// message no consumer processed).
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

// symptoms are keys that describe a failure rather than explain it.
var symptoms = []attribute.Key{
	semconv.ErrorTypeKey, semconv.HTTPResponseStatusCodeKey, semconv.RPCResponseStatusCodeKey,
	semconv.DBResponseStatusCodeKey, semconv.OTelStatusCodeKey, semconv.OTelStatusDescriptionKey,
}

// Compare looks, over the traces diagnosed, at every operation (service,
// span name and kind) that went wrong in some traces and well in others,
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
		s   *Span
		bad string
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
			ops[k] = append(ops[k], member{s, bad})
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
		if good == 0 || len(outcomes) == 0 {
			continue
		}
		for _, outcome := range []string{"failed", "lost"} {
			bad := outcomes[outcome]
			if bad == 0 {
				continue
			}
			type count struct{ bad, good, all int }
			values := map[attribute.Key]map[string]*count{}
			var keys []attribute.Key
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
				switch m.bad {
				case outcome:
					c.bad++
				case "":
					c.good++
				}
			}
			for _, m := range ms {
				if m.bad != outcome && m.bad != "" {
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
						Bad: bad, BadWith: c.bad, Good: good, GoodWith: c.good}
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
			cmp.Compare(b.Bad, a.Bad),
			strings.Compare(a.Service, b.Service), strings.Compare(a.Span, b.Span),
			strings.Compare(a.Key, b.Key), strings.Compare(a.Value, b.Value))
	})
	return out
}
