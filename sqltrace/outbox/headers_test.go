package outbox_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/internal/kafkatest"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/sqltrace/outbox"
)

// TestRelay_UnpairableHeadersArePublishedWithoutThemAndReported: a row
// whose header_keys and header_values cannot be paired is still published,
// with its trace context but none of its user headers; the relay reports
// it through otel.Handle with the row id and marks its span. A NULL key
// used to fail the claim of the whole batch, on every poll.
func TestRelay_UnpairableHeadersArePublishedWithoutThemAndReported(t *testing.T) {
	pool := db(t)
	seeds := kafkatest.Cluster(t, 1, "orders")
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	ctx := context.Background()
	cases := []struct {
		label, keys, vals string // SQL array literals, NULL for none
		want              []string
		report            string // "" when the row is fine
	}{
		{label: "paired", keys: `ARRAY['tenant','source']`, vals: `ARRAY['t-1'::bytea,'web']`, want: []string{"tenant=t-1", "source=web"}},
		{label: "none", keys: `NULL`, vals: `NULL`},
		{label: "nullvalue", keys: `ARRAY['tenant']`, vals: `ARRAY[NULL::bytea]`, want: []string{"tenant="}},
		{label: "morekeys", keys: `ARRAY['tenant','source']`, vals: `ARRAY['t-1'::bytea]`, report: "header_keys has 2 entries and header_values 1"},
		{label: "morevalues", keys: `ARRAY['tenant']`, vals: `ARRAY['t-1'::bytea,'web']`, report: "header_keys has 1 entries and header_values 2"},
		{label: "nokeys", keys: `NULL`, vals: `ARRAY['t-1'::bytea]`, report: "header_keys has 0 entries and header_values 1"},
		{label: "novalues", keys: `ARRAY['tenant']`, vals: `NULL`, report: "header_keys has 1 entries and header_values 0"},
		{label: "nullkey", keys: `ARRAY['tenant',NULL]`, vals: `ARRAY['t-1'::bytea,'web']`, report: "header_keys[2] is NULL"},
	}
	ids := map[string]int64{}
	for _, c := range cases {
		var id int64
		if err := pool.QueryRow(ctx, fmt.Sprintf(`INSERT INTO outbox (topic, key, payload, header_keys, header_values)
			VALUES ('orders', 'k', $1, %s, %s) RETURNING id`, c.keys, c.vals), []byte(c.label)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[c.label] = id
	}

	handled := tracingtest.Reports(t)
	a := drain(t, pool, seeds, rec.TracerProvider())

	published := map[string][]string{}
	for _, e := range a.snapshot() {
		if e.buffered || e.err != nil {
			continue
		}
		var hs []string
		for _, h := range e.headers {
			hs = append(hs, h.Key+"="+string(h.Value))
		}
		published[e.label] = hs
	}
	reports := handled()
	for _, c := range cases {
		id := ids[c.label]
		hs, ok := published[c.label]
		if !ok {
			t.Errorf("%s: row %d not published", c.label, id)
			continue
		}
		if len(hs) == 0 || !strings.HasPrefix(hs[len(hs)-1], "traceparent=00-") {
			t.Errorf("%s: headers %q do not end with the trace context", c.label, hs)
			continue
		}
		if user := hs[:len(hs)-1]; !slices.Equal(user, c.want) {
			t.Errorf("%s: user headers %q, want %q", c.label, user, c.want)
		}
		relay := rec.Span(t, outbox.SpanName, tracingtest.WithAttr(outbox.AttrID.Int64(id)))
		if c.report != "" {
			rec.AssertAttrs(t, relay, outbox.AttrHeadersDropped.Bool(true))
		} else {
			rec.AssertNoAttrs(t, relay, outbox.AttrHeadersDropped)
		}
		var got []string
		for _, r := range reports {
			if strings.HasPrefix(r.Error(), fmt.Sprintf("outbox: row %d: ", id)) {
				got = append(got, r.Error())
			}
		}
		switch {
		case c.report == "" && len(got) > 0:
			t.Errorf("%s: reported %q, want no report", c.label, got)
		case c.report != "" && (len(got) != 1 || !strings.Contains(got[0], c.report) || !strings.Contains(got[0], "user headers dropped")):
			t.Errorf("%s: reported %q, want one report with %q", c.label, got, c.report)
		}
	}
}
