package diagnose

import (
	"cmp"
	"slices"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// tree indexes the spans of one trace. A span whose parent is not in the
// trace but which links to a span that is hangs under that span (a consumer
// that links to its producer); otherwise it is a root. Parent cycles, which
// only a corrupt trace has, are broken so that every span is reached once.
type tree struct {
	spans    []*Span
	byID     map[trace.SpanID]int
	parent   []int   // -1 for a root
	children [][]int // by start time
	effEnd   []time.Time
	roots    []int // by start time
	main     int   // the earliest root: the request
}

func newTree(spans []*Span) *tree {
	t := &tree{byID: make(map[trace.SpanID]int, len(spans))}
	t.spans = make([]*Span, 0, len(spans))
	for _, s := range spans {
		if _, dup := t.byID[s.SpanID]; dup {
			continue // exported twice: keep the first
		}
		t.byID[s.SpanID] = len(t.spans)
		t.spans = append(t.spans, s)
	}
	n := len(t.spans)
	t.parent = make([]int, n)
	t.children = make([][]int, n)
	for i, s := range t.spans {
		t.parent[i] = -1
		if p, ok := t.byID[s.ParentID]; ok && s.ParentID.IsValid() && p != i {
			t.parent[i] = p
			continue
		}
		for _, l := range s.Links {
			if p, ok := t.byID[l.SpanID]; ok && l.TraceID == s.TraceID && p != i {
				t.parent[i] = p
				break
			}
		}
	}
	for i, p := range t.parent {
		if p >= 0 {
			t.children[p] = append(t.children[p], i)
		}
	}
	t.breakCycles()
	byStart := func(a, b int) int {
		return cmp.Or(t.spans[a].Start.Compare(t.spans[b].Start), cmp.Compare(a, b))
	}
	for _, c := range t.children {
		slices.SortFunc(c, byStart)
	}
	slices.SortFunc(t.roots, byStart)
	t.effEnd = make([]time.Time, n)
	for _, r := range t.roots {
		t.computeEnd(r)
	}
	t.main = -1
	if len(t.roots) > 0 {
		t.main = t.roots[0]
	}
	return t
}

// breakCycles collects the roots and turns into a root the first unreached
// span of each cycle.
func (t *tree) breakCycles() {
	reached := make([]bool, len(t.spans))
	var stack []int
	visit := func(r int) {
		stack = append(stack[:0], r)
		reached[r] = true
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, c := range t.children[i] {
				if !reached[c] {
					reached[c] = true
					stack = append(stack, c)
				}
			}
		}
	}
	for i, p := range t.parent {
		if p < 0 {
			t.roots = append(t.roots, i)
			visit(i)
		}
	}
	for i := range t.spans {
		if reached[i] {
			continue
		}
		p := t.parent[i]
		t.children[p] = slices.DeleteFunc(t.children[p], func(c int) bool { return c == i })
		t.parent[i] = -1
		t.roots = append(t.roots, i)
		visit(i)
	}
}

// computeEnd sets effEnd, the end of a span or of its last descendant,
// whichever is later: asynchronous work outlives the span that started it.
func (t *tree) computeEnd(root int) {
	// Iterative post-order: a trace may be thousands of spans deep.
	type frame struct{ i, next int }
	stack := []frame{{root, 0}}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next < len(t.children[f.i]) {
			c := t.children[f.i][f.next]
			f.next++
			stack = append(stack, frame{c, 0})
			continue
		}
		s := t.spans[f.i]
		end := s.End
		if end.Before(s.Start) {
			end = s.Start
		}
		for _, c := range t.children[f.i] {
			if t.effEnd[c].After(end) {
				end = t.effEnd[c]
			}
		}
		t.effEnd[f.i] = end
		stack = stack[:len(stack)-1]
	}
}

func (t *tree) parentSpan(i int) *Span {
	if p := t.parent[i]; p >= 0 {
		return t.spans[p]
	}
	return nil
}
