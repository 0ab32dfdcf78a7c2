package diagnose

import (
	"slices"
	"time"
)

// Step is one span of the critical path.
type Step struct {
	SpanRef
	// Self is the time the path spends in this span itself, not in one of
	// its children on the path.
	Self time.Duration `json:"self"`
	// Wait is the time before this span started during which nothing on
	// the path ran: the parent had ended and the work waited in a queue (an
	// outbox table, a Kafka topic).
	Wait time.Duration `json:"wait,omitempty"`
	// Share is Self as a fraction of the trace's duration.
	Share float64 `json:"share"`

	index int
}

// criticalPath returns the chain of spans that determines the duration of
// the request, from the main root to the last span to end, asynchronous
// hops included: at each span, walking back from the moment its work
// ended, the child that ended last is on the path, then the child that
// ended last before that child started, and so on; the gaps are the span's
// own time, or waiting time where the span had already ended.
func (t *tree) criticalPath() []Step {
	if t.main < 0 {
		return nil
	}
	var path []Step
	// Each span is walked at most once (it has one parent), so the path
	// costs a sort of each walked span's children.
	var walk func(i int, cursor time.Time)
	walk = func(i int, cursor time.Time) {
		s := t.spans[i]
		step := len(path)
		path = append(path, Step{SpanRef: s.ref(), index: i})
		end := s.End
		if end.Before(s.Start) {
			end = s.Start
		}
		pending := -1 // the step of the child that starts at cursor
		account := func(from, to time.Time) {
			if !to.After(from) {
				return
			}
			// Within the span: its own time; after its end: waiting.
			selfTo := minTime(to, end)
			if selfTo.After(from) {
				path[step].Self += selfTo.Sub(from)
			}
			waitFrom := maxTime(from, end)
			if to.After(waitFrom) && pending >= 0 {
				path[pending].Wait += to.Sub(waitFrom)
			} else if to.After(waitFrom) {
				path[step].Self += to.Sub(waitFrom)
			}
		}
		kids := slices.Clone(t.children[i])
		slices.SortStableFunc(kids, func(a, b int) int { return t.effEnd[b].Compare(t.effEnd[a]) })
		for _, c := range kids {
			cs := t.spans[c]
			if !cs.Start.Before(cursor) || t.effEnd[c].Before(s.Start) {
				continue
			}
			ce := minTime(t.effEnd[c], cursor)
			account(ce, cursor)
			pending = len(path)
			walk(c, ce)
			cursor = maxTime(cs.Start, s.Start)
		}
		account(s.Start, cursor)
	}
	walk(t.main, t.effEnd[t.main])
	total := t.effEnd[t.main].Sub(t.spans[t.main].Start)
	for i := range path {
		if total > 0 {
			path[i].Share = float64(path[i].Self) / float64(total)
		}
	}
	slices.SortStableFunc(path, func(a, b Step) int { return t.spans[a.index].Start.Compare(t.spans[b.index].Start) })
	return path
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
