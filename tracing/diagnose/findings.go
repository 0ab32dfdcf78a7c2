package diagnose

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

type analysis struct {
	t   *tree
	d   *Diagnosis
	cfg *config

	dbSuffix map[int][]time.Duration // see dbWorkFrom
}

func (a *analysis) add(k Kind, s *Span, summary string, fields map[string]any) {
	a.d.Findings = append(a.d.Findings, Finding{Kind: k, SpanRef: s.ref(), Summary: summary, Fields: fields, start: s.Start})
}

// answered reports whether a server span answered its caller with a failure
// status without being marked failed itself (an HTTP server's 4xx is not
// an error of the server): the failure went on to the caller.
func answered(s *Span) bool {
	if s.Kind != trace.SpanKindServer {
		return false
	}
	v, ok := s.Attr(semconv.HTTPResponseStatusCodeKey)
	return ok && v.Type() == attribute.INT64 && v.AsInt64() >= 400
}

// carries reports whether span i passes a failure up to its parent.
func (a *analysis) carries(i int) bool {
	s := a.t.spans[i]
	return s.failed() || answered(s)
}

// errors follows each failure from the highest span it reached down to the
// first span where it started, and says whether the request saw it.
func (a *analysis) errors() {
	t := a.t
	for i, s := range t.spans {
		if !s.failed() {
			continue
		}
		// Only the highest failed span of each chain starts a walk.
		top, highest := i, i
		for p := t.parent[highest]; p >= 0 && a.carries(p); p = t.parent[highest] {
			highest = p
			if t.spans[p].failed() {
				top = p
			}
		}
		if top != i {
			continue
		}
		origin, depth := i, 0
		for {
			next := -1
			for _, c := range t.children[origin] {
				if t.spans[c].failed() {
					next = c
					break
				}
			}
			if next < 0 && !isTimeout(t.spans[origin]) {
				// A callee that answered the failure decided it, unless
				// the caller timed out: then whatever the callee answered
				// came too late to matter.
				for _, c := range t.children[origin] {
					if answered(t.spans[c]) && !t.spans[c].End.After(t.spans[origin].End) {
						next = c
						break
					}
				}
			}
			if next < 0 {
				break
			}
			origin, depth = next, depth+1
		}
		o := t.spans[origin]
		fields := errorFields(o)
		text := errorSentence(o)
		if t.parent[highest] < 0 {
			h := t.spans[highest]
			fields["reached"] = h.ref().String()
			fields["depth"] = depth
			a.add(ErrorOrigin, o, fmt.Sprintf("%s; the failure started here and reached %s", text, h.ref()), fields)
			continue
		}
		absorber := t.spans[t.parent[highest]]
		async := absorber.Kind == trace.SpanKindProducer
		for j := highest; j >= 0; j = t.parent[j] {
			if k := t.spans[j].Kind; k == trace.SpanKindConsumer {
				async = true
				break
			}
		}
		fields["absorbed_by"] = absorber.ref().String()
		fields["async"] = async
		if async {
			a.add(ErrorAbsorbed, o, fmt.Sprintf("%s; it failed asynchronously, under %s, which did not fail: the request that started the trace did not see it", text, absorber.ref()), fields)
		} else {
			a.add(ErrorAbsorbed, o, fmt.Sprintf("%s; absorbed by %s, which did not fail (graceful degradation)", text, absorber.ref()), fields)
		}
	}
}

func errorSentence(s *Span) string {
	text := s.errorText()
	if v, ok := s.Attr(semconv.HTTPResponseStatusCodeKey); ok && (text == "" || text == v.String()) {
		return "answered " + v.String()
	}
	if text == "" {
		return "failed"
	}
	return "failed: " + oneLine(text)
}

func errorFields(s *Span) map[string]any {
	f := map[string]any{}
	if t := s.errorText(); t != "" {
		f["error"] = oneLine(t)
	}
	for _, k := range []attribute.Key{semconv.ErrorTypeKey, semconv.HTTPResponseStatusCodeKey} {
		if v, ok := s.Attr(k); ok {
			f[string(k)] = v.AsInterface()
		}
	}
	return f
}

func isTimeout(s *Span) bool {
	for _, t := range []string{s.errorText(), s.StatusMessage} {
		t = strings.ToLower(t)
		if strings.Contains(t, "timeout") || strings.Contains(t, "deadline") || strings.Contains(t, "timed out") {
			return true
		}
	}
	if v, ok := s.Attr(semconv.ErrorTypeKey); ok {
		t := strings.ToLower(v.String())
		return strings.Contains(t, "timeout") || strings.Contains(t, "deadline")
	}
	return false
}

// lostMessages reports producer spans that no consumer span of the trace
// processed: neither as their child nor through a link.
func (a *analysis) lostMessages() {
	t := a.t
	consumed := make(map[int]bool)
	for i, s := range t.spans {
		if s.Kind != trace.SpanKindConsumer {
			continue
		}
		if p, ok := t.byID[s.ParentID]; ok && s.ParentID.IsValid() {
			consumed[p] = true
		}
		for _, l := range s.Links {
			if p, ok := t.byID[l.SpanID]; ok && l.TraceID == s.TraceID {
				consumed[p] = true
			}
		}
		_ = i
	}
	for i, s := range t.spans {
		if s.Kind != trace.SpanKindProducer || s.failed() || consumed[i] {
			continue
		}
		if a.d.lost == nil {
			a.d.lost = make(map[int]bool)
		}
		a.d.lost[i] = true
		fields := map[string]any{}
		dest := "its destination"
		if v, ok := s.Attr(semconv.MessagingDestinationNameKey); ok {
			dest = v.String()
		}
		where := dest
		if v, ok := s.Attr(semconv.MessagingDestinationPartitionIDKey); ok {
			where += " partition " + v.String()
		}
		for _, k := range []attribute.Key{semconv.MessagingSystemKey, semconv.MessagingDestinationNameKey, semconv.MessagingDestinationPartitionIDKey, semconv.MessagingKafkaOffsetKey, semconv.MessagingMessageIDKey} {
			if v, ok := s.Attr(k); ok {
				fields[string(k)] = v.AsInterface()
			}
		}
		a.add(LostMessage, s, fmt.Sprintf("the message sent to %s was never processed: no consumer span in the trace", where), fields)
	}
}

// timeoutChains reports callees still running when their caller gave up:
// a child that ended after its failed parent (with a clock tolerance of 2%
// of the parent's duration when the parent timed out).
func (a *analysis) timeoutChains() {
	t := a.t
	type group struct {
		child, parent *Span
		count         int
		overrun       time.Duration
	}
	var groups []*group
	byKey := map[string]*group{}
	for i, c := range t.spans {
		p := t.parentSpan(i)
		if p == nil || !p.failed() || p.Kind == trace.SpanKindProducer || c.Kind == trace.SpanKindConsumer || c.Start.Before(p.Start) {
			continue
		}
		late := c.End.After(p.End)
		if !late && isTimeout(p) && !c.End.Before(p.End.Add(-p.Duration()/50)) {
			late = true
		}
		if !late {
			continue
		}
		key := p.Service + "\x00" + p.Name + "\x00" + c.Service + "\x00" + c.Name
		g := byKey[key]
		if g == nil {
			g = &group{child: c, parent: p}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.count++
		g.overrun = max(g.overrun, c.End.Sub(p.End))
	}
	for _, g := range groups {
		why := errorSentence(g.parent)
		fields := map[string]any{
			"caller":          g.parent.ref().String(),
			"caller_duration": g.parent.Duration().Seconds(),
			"callee_duration": g.child.Duration().Seconds(),
			"timeout":         isTimeout(g.parent),
			"count":           g.count,
		}
		times := ""
		if g.count > 1 {
			times = fmt.Sprintf("; %d times in this trace", g.count)
		}
		a.add(TimeoutChain, g.child, fmt.Sprintf("still running when its caller %s gave up after %s (%s)%s",
			g.parent.ref(), round(g.parent.Duration()), why, times), fields)
	}
}

// retries reports several client attempts to the same downstream under one
// parent: attempts that carry http.request.resend_count, or three or more
// that all but the last failed.
func (a *analysis) retries() {
	t := a.t
	for p, kids := range t.children {
		var keys []string
		groups := map[string][]*Span{}
		for _, c := range kids {
			s := t.spans[c]
			if s.Kind != trace.SpanKindClient {
				continue
			}
			k := downstream(s)
			if _, ok := groups[k]; !ok {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], s)
		}
		for _, k := range keys {
			g := groups[k]
			if len(g) < 2 {
				continue
			}
			var resent, maxResend int64
			failed, timeouts := 0, 0
			for _, s := range g {
				if v, ok := s.Attr(semconv.HTTPRequestResendCountKey); ok && v.AsInt64() > 0 {
					resent++
					maxResend = max(maxResend, v.AsInt64())
				}
				if s.failed() {
					failed++
				}
				if s.failed() && isTimeout(s) {
					timeouts++
				}
			}
			_, isDB := g[0].Attr(semconv.DBSystemNameKey)
			if resent == 0 && (isDB || len(g) < 3 || failed < len(g)-1) {
				continue
			}
			parent := t.spans[p]
			total := g[len(g)-1].End.Sub(g[0].Start)
			fields := map[string]any{
				"attempts": len(g), "failed": failed, "timeouts": timeouts,
				"downstream": strings.ReplaceAll(k, "\x00", " "), "duration": total.Seconds(),
			}
			if maxResend > 0 {
				fields[string(semconv.HTTPRequestResendCountKey)] = maxResend
			}
			summary := fmt.Sprintf("%d attempts of %s to the same downstream over %s, %d failed", len(g), g[0].Name, round(total), failed)
			if timeouts > 0 {
				summary += fmt.Sprintf(", %d timed out", timeouts)
			}
			if maxResend > 0 {
				summary += fmt.Sprintf(" (http.request.resend_count up to %d)", maxResend)
			}
			if parent.Duration() > 0 {
				summary += fmt.Sprintf("; %d%% of %s", percent(total, parent.Duration()), parent.Name)
			}
			a.add(RetryStorm, parent, summary, fields)
		}
	}
}

// downstream names where a client span goes: name, server address and
// port, and the URL path or the database namespace.
func downstream(s *Span) string {
	var b strings.Builder
	b.WriteString(s.Name)
	for _, k := range []attribute.Key{semconv.ServerAddressKey, semconv.ServerPortKey, semconv.DBNamespaceKey, semconv.URLTemplateKey} {
		if v, ok := s.Attr(k); ok {
			b.WriteByte(0)
			b.WriteString(v.String())
		}
	}
	if v, ok := s.Attr(semconv.URLFullKey); ok {
		if u, err := url.Parse(v.AsString()); err == nil {
			b.WriteByte(0)
			b.WriteString(u.Path)
		}
	}
	return b.String()
}

// minPoolWait is the shortest wait for a pooled connection reported: a few
// milliseconds are what a pool takes to hand over a connection another
// request is just opening, not an exhausted pool.
const minPoolWait = 10 * time.Millisecond

// poolWaits reports time spent waiting for a pooled connection, at least
// minPoolWait and as long as the statements that followed: a span named like
// "pgxpool.acquire" or "pool.acquire" that did not open a connection, or
// the attribute pgxpool.acquire.duration on a statement.
func (a *analysis) poolWaits() {
	t := a.t
	type waitAt struct {
		s    *Span
		wait time.Duration
		work time.Duration
	}
	var longest *waitAt
	count := 0
	var total time.Duration
	for i, s := range t.spans {
		var w waitAt
		switch {
		case strings.Contains(strings.ToLower(s.Name), "acquire"):
			connected := false
			for _, c := range t.children[i] {
				connected = connected || strings.Contains(strings.ToLower(t.spans[c].Name), "connect")
			}
			if connected {
				continue
			}
			w = waitAt{s: s, wait: s.Duration()}
			if p := t.parent[i]; p >= 0 {
				w.work = a.dbWorkFrom(p, s.End)
			}
		default:
			v, ok := s.Attr(acquireDurationKey)
			if !ok {
				continue
			}
			w = waitAt{s: s, wait: time.Duration(v.AsFloat64() * float64(time.Second)), work: s.Duration()}
		}
		if w.wait < minPoolWait || w.wait < w.work {
			continue
		}
		count++
		total += w.wait
		if longest == nil || w.wait > longest.wait {
			longest = &w
		}
	}
	if longest == nil {
		return
	}
	fields := map[string]any{"wait": longest.wait.Seconds(), "statements": longest.work.Seconds(), "waits": count, "total_wait": total.Seconds()}
	if v, ok := longest.s.Attr(semconv.DBClientConnectionPoolNameKey); ok {
		fields[string(semconv.DBClientConnectionPoolNameKey)] = v.String()
	}
	a.add(PoolExhaustion, longest.s, fmt.Sprintf("waited %s for a pool connection, longer than the %s of statements that followed it (%d waits, %s in all)",
		round(longest.wait), round(longest.work), count, round(total)), fields)
}

// dbWorkFrom returns the time that the database statements among p's
// children starting at or after from took. The children are sorted by
// start; the suffix sums are computed once per parent.
func (a *analysis) dbWorkFrom(p int, from time.Time) time.Duration {
	kids := a.t.children[p]
	if a.dbSuffix == nil {
		a.dbSuffix = make(map[int][]time.Duration)
	}
	suffix, ok := a.dbSuffix[p]
	if !ok {
		suffix = make([]time.Duration, len(kids)+1)
		for x := len(kids) - 1; x >= 0; x-- {
			suffix[x] = suffix[x+1]
			if sib := a.t.spans[kids[x]]; hasDB(sib) {
				suffix[x] += sib.Duration()
			}
		}
		a.dbSuffix[p] = suffix
	}
	x, _ := slices.BinarySearchFunc(kids, from, func(c int, t time.Time) int { return a.t.spans[c].Start.Compare(t) })
	return suffix[x]
}

func hasDB(s *Span) bool {
	_, ok := s.Attr(semconv.DBSystemNameKey)
	return ok
}

// acquireDurationKey is the attribute sqltrace's AcquireAttribute mode puts
// on the statement that waited, in seconds.
const acquireDurationKey = attribute.Key("pgxpool.acquire.duration")

// fanOuts reports parents whose children ran in parallel and some, not
// all, failed.
func (a *analysis) fanOuts() {
	t := a.t
	for p, kids := range t.children {
		if len(kids) < 2 {
			continue
		}
		// Children are sorted by start: a child overlaps a sibling if an
		// earlier one ends after it starts or the next one starts before
		// it ends. Linear, whatever the fan-out.
		var parallel []*Span
		var latestEnd time.Time
		for x, c := range kids {
			s := t.spans[c]
			overlaps := x > 0 && latestEnd.After(s.Start) ||
				x+1 < len(kids) && t.spans[kids[x+1]].Start.Before(s.End)
			if overlaps {
				parallel = append(parallel, s)
			}
			if s.End.After(latestEnd) {
				latestEnd = s.End
			}
		}
		failed := 0
		var first *Span
		for _, s := range parallel {
			if s.failed() {
				failed++
				if first == nil {
					first = s
				}
			}
		}
		if failed == 0 || failed == len(parallel) {
			continue
		}
		parent := t.spans[p]
		fields := errorFields(first)
		fields["parent"] = parent.ref().String()
		fields["parallel"] = len(parallel)
		fields["failed"] = failed
		fields["degraded"] = !parent.failed()
		outcome := "the parent failed with it"
		if !parent.failed() {
			outcome = "the parent did not fail (graceful degradation)"
		}
		a.add(FanOutFailure, first, fmt.Sprintf("%d of %d parallel calls under %s failed (%s); %s",
			failed, len(parallel), parent.ref(), strings.TrimPrefix(errorSentence(first), "failed: "), outcome), fields)
	}
}

// dominance reports a span of the critical path that takes at least the
// configured share of it by itself, counting as its own the time of three
// or more children of the same name on the path (the same query repeated).
func (a *analysis) dominance() {
	t := a.t
	if a.d.Duration <= 0 || a.d.Duration < a.cfg.slowRequest {
		return
	}
	onPath := make(map[int]int, len(a.d.CriticalPath))
	for k, st := range a.d.CriticalPath {
		onPath[st.index] = k
	}
	for _, st := range a.d.CriticalPath {
		i := st.index
		if i == t.main {
			continue
		}
		own := st.Self
		repeats := map[string]int{}
		repeatTime := map[string]time.Duration{}
		for _, c := range t.children[i] {
			if k, ok := onPath[c]; ok && len(t.children[c]) <= 1 {
				repeats[t.spans[c].Name]++
				repeatTime[t.spans[c].Name] += a.d.CriticalPath[k].Self
				for _, g := range t.children[c] {
					if k, ok := onPath[g]; ok {
						repeatTime[t.spans[c].Name] += a.d.CriticalPath[k].Self
					}
				}
			}
		}
		var name string
		for n, cnt := range repeats {
			if cnt >= 3 && (name == "" || repeatTime[n] > repeatTime[name]) {
				name = n
			}
		}
		if name != "" {
			own += repeatTime[name]
		}
		share := float64(own) / float64(a.d.Duration)
		if share < a.cfg.dominance {
			continue
		}
		s := t.spans[i]
		fields := map[string]any{"share": share, "time": own.Seconds(), "critical_path": a.d.Duration.Seconds()}
		summary := fmt.Sprintf("%d%% of the critical path (%s of %s)", int(share*100), round(own), round(a.d.Duration))
		if name != "" {
			fields["repeated"] = name
			fields["repeats"] = repeats[name]
			summary += fmt.Sprintf(", %d × %s taking %s", repeats[name], name, round(repeatTime[name]))
		}
		if v, ok := s.Attr(semconv.DBQuerySummaryKey); ok {
			fields[string(semconv.DBQuerySummaryKey)] = v.String()
		}
		a.add(DominantStep, s, summary, fields)
	}
}

func percent(part, whole time.Duration) int {
	if whole <= 0 {
		return 0
	}
	return int(float64(part) * 100 / float64(whole))
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

// oneLine keeps a value from breaking a line of text.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
