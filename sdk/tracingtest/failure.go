package tracingtest

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// fail reports one failed assertion as one line, and makes sure that the
// recorded waterfall is printed once when tb's test ends: a test with ten
// failed assertions shows ten lines and one picture of the trace, drawn
// after the test's own goroutines are done and so as complete as it gets.
func (r *Recorder) fail(tb TB, fatal bool, format string, args ...any) {
	tb.Helper()
	r.showAtEnd(tb)
	msg := "tracingtest: " + fmt.Sprintf(format, args...)
	if fatal {
		tb.Fatalf("%s", msg)
		return
	}
	tb.Errorf("%s", msg)
}

// showAtEnd registers, on tb's first failure, a cleanup printing the
// waterfall. The test New was given prints it in New's own cleanup instead,
// after the check that every span ended, so that it comes last.
func (r *Recorder) showAtEnd(tb TB) {
	if !rememberable(tb) { // cannot be remembered: print at each failure
		tb.Cleanup(func() { r.show(tb) })
		return
	}
	r.mu.Lock()
	seen := r.shown[tb]
	r.shown[tb] = true
	r.mu.Unlock()
	if !seen && tb != r.tb {
		tb.Cleanup(func() { r.show(tb) })
	}
}

// rememberable reports whether tb can be a map key; a TB is normally a
// pointer, as *testing.T is.
func rememberable(tb TB) bool { return reflect.TypeOf(tb).Comparable() }

// show prints the waterfall: with Logf when tb has it, as *testing.T does,
// else with Errorf.
func (r *Recorder) show(tb TB) {
	msg := "tracingtest: recorded spans when the test ended:\n" + r.Waterfall()
	if l, ok := tb.(interface{ Logf(string, ...any) }); ok {
		l.Logf("%s", msg)
		return
	}
	tb.Errorf("%s", msg)
}

// find returns the spans named name that all of match select.
func find(spans []sdktrace.ReadOnlySpan, name string, match []Match) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name && matches(s, match) {
			out = append(out, s)
		}
	}
	return out
}

func matches(s sdktrace.ReadOnlySpan, match []Match) bool {
	for _, m := range match {
		if m != nil && !m(s) {
			return false
		}
	}
	return true
}

// whatIsThere says, in one line, what was recorded instead of the spans
// named name that match select: spans of that name the filters reject,
// such spans still open, or, when none of them ended, the closest names.
func (r *Recorder) whatIsThere(name string, match []Match, ended int) string {
	all, open := r.Spans(), r.openSpans()
	var parts []string
	var rejected, opened []string
	for _, s := range all {
		if s.Name() == name && !matches(s, match) {
			rejected = append(rejected, describe(s))
		}
	}
	for _, s := range open {
		if s.Name() == name && matches(s, match) {
			opened = append(opened, describe(s))
		}
	}
	if len(rejected) > 0 {
		parts = append(parts, fmt.Sprintf("the filters reject %s", list(rejected)))
	}
	if len(opened) > 0 {
		parts = append(parts, fmt.Sprintf("still open: %s", list(opened)))
	}
	if len(parts) == 0 && ended == 0 {
		if len(all)+len(open) == 0 {
			return "no spans recorded"
		}
		parts = append(parts, "closest names "+list(closest(name, append(all, open...), 3)))
	}
	return strings.Join(parts, "; ")
}

// closest returns up to n distinct span names nearest to name by edit
// distance, nearest first, quoted.
func closest(name string, spans []sdktrace.ReadOnlySpan, n int) []string {
	dist := map[string]int{}
	for _, s := range spans {
		if _, ok := dist[s.Name()]; !ok {
			dist[s.Name()] = editDistance(name, s.Name())
		}
	}
	names := make([]string, 0, len(dist))
	for k := range dist {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if dist[names[i]] != dist[names[j]] {
			return dist[names[i]] < dist[names[j]]
		}
		return names[i] < names[j]
	})
	names = names[:min(n, len(names))]
	for i, k := range names {
		names[i] = fmt.Sprintf("%q", k)
	}
	return names
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// list joins items for a one-line message, naming at most four.
func list(items []string) string {
	const most = 4
	if len(items) <= most {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:most], ", "), len(items)-most)
}

func describe(s sdktrace.ReadOnlySpan) string {
	return fmt.Sprintf("%q (%s, %s)", s.Name(), serviceOf(s), s.SpanKind())
}

func describeAll(spans []sdktrace.ReadOnlySpan) string {
	all := make([]string, len(spans))
	for i, s := range spans {
		all[i] = describe(s)
	}
	return list(all)
}
