package sqltrace

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// connInfo is what a Tracer knows about a database endpoint: the attributes
// every span and metric of its connections carry. Connections to the same
// server, database and schema share one connInfo, computed once.
type connInfo struct {
	namespace string
	poolName  string
	attrs     []attribute.KeyValue  // span and metric attributes
	startOpt  trace.SpanStartOption // attrs and the Tracer's extra attributes
	pool      poolAttrs             // db.client.connection.pool.name

	mu   sync.RWMutex
	sets map[string][]metric.RecordOption // metric attributes by db.query.summary
}

// poolAttrs is the db.client.connection.pool.name attribute set, wrapped in
// the options the instruments take, built once: passing a prebuilt option
// slice is what keeps a measurement free of allocations.
type poolAttrs struct {
	set    attribute.Set
	record []metric.RecordOption
	add    []metric.AddOption
}

func newPoolAttrs(name string) poolAttrs {
	set := attribute.NewSet(semconv.DBClientConnectionPoolName(name))
	opt := metric.WithAttributeSet(set)
	return poolAttrs{set: set, record: []metric.RecordOption{opt}, add: []metric.AddOption{opt}}
}

// maxMetricSets bounds the cached metric attribute sets per endpoint; past
// it, sets are built per record (and an application with that many query
// shapes should look at its metric cardinality anyway).
const maxMetricSets = 4096

type infoKey struct {
	host      string
	port      uint16
	namespace string
}

// info returns the connInfo of the endpoint cfg (and pc, when connected)
// points to.
func (t *Tracer) info(cfg *pgx.ConnConfig, pc *pgconn.PgConn) *connInfo {
	k := infoKey{host: cfg.Host, port: cfg.Port, namespace: namespace(cfg, pc)}
	t.infosMu.Lock()
	defer t.infosMu.Unlock()
	if ci := t.infos[k]; ci != nil {
		return ci
	}
	ci := &connInfo{
		namespace: k.namespace,
		poolName:  k.host + ":" + strconv.Itoa(int(k.port)) + "/" + k.namespace,
		sets:      map[string][]metric.RecordOption{},
	}
	ci.attrs = []attribute.KeyValue{
		semconv.DBSystemNamePostgreSQL,
		semconv.DBNamespace(k.namespace),
		semconv.ServerAddress(k.host),
		semconv.ServerPort(int(k.port)),
	}
	ci.startOpt = trace.WithAttributes(append(ci.attrs[:len(ci.attrs):len(ci.attrs)], t.extra...)...)
	ci.pool = newPoolAttrs(ci.poolName)
	t.infos[k] = ci
	return ci
}

// namespace is the db.namespace of a connection: "database|schema" with
// the first schema of its search_path, or the database alone when the
// search_path is the server's default.
func namespace(cfg *pgx.ConnConfig, pc *pgconn.PgConn) string {
	db := cfg.Database
	if db == "" {
		db = cfg.User // PostgreSQL's default database is the user's name
	}
	path := ""
	if pc != nil {
		path = pc.ParameterStatus("search_path")
	}
	if path == "" {
		path = cfg.RuntimeParams["search_path"]
	}
	for s := range strings.SplitSeq(path, ",") {
		s = strings.TrimSpace(s)
		if s == "" || s == `"$user"` || s == "$user" {
			continue
		}
		if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
			s = strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
		}
		return db + "|" + s
	}
	return db
}

// metricAttrs returns a fresh slice of the metric attributes for summary.
func (ci *connInfo) metricAttrs(summary string) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs, ci.attrs...)
	if summary != "" {
		attrs = append(attrs, semconv.DBQuerySummary(summary))
	}
	return attrs
}

// metricOpts returns the options that record a measurement with the metric
// attributes of summary; after the first call for a summary it allocates
// nothing.
func (ci *connInfo) metricOpts(summary string) []metric.RecordOption {
	ci.mu.RLock()
	opts, ok := ci.sets[summary]
	ci.mu.RUnlock()
	if ok {
		return opts
	}
	opts = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(ci.metricAttrs(summary)...))}
	ci.mu.Lock()
	if len(ci.sets) < maxMetricSets {
		ci.sets[summary] = opts
	}
	ci.mu.Unlock()
	return opts
}

// connState is what a Tracer keeps on one connection, in the connection's
// CustomData: only the goroutine that holds the connection touches it.
type connState struct {
	tracer     *Tracer
	info       *connInfo
	acquiredAt time.Time     // when a pool last handed the connection out
	wait       time.Duration // acquire wait not yet reported (AcquireAttribute)
	waited     bool
	named      map[string]*analysis // statements the application prepared by name
}

// maxNamed bounds the named statements remembered per connection.
const maxNamed = 256

// rememberName records that the application prepared sql under name, so
// that a query by that name is summarised as sql. pgx's own statement
// cache names ("stmtcache_...") never reach a query: they are skipped.
func (st *connState) rememberName(name, sql string, a *analysis) {
	if name == "" || name == sql || strings.HasPrefix(name, "stmtcache_") || st == noState {
		return
	}
	if st.named == nil {
		st.named = map[string]*analysis{}
	}
	if _, ok := st.named[name]; ok || len(st.named) < maxNamed {
		st.named[name] = a
	}
}

// stateKey is the CustomData key of a connState.
const stateKey = ScopeName

var noState = &connState{}

// state returns the connState of conn, creating it on first use.
func (t *Tracer) state(conn *pgx.Conn) *connState {
	if conn == nil {
		return noState
	}
	pc := conn.PgConn()
	data := pc.CustomData()
	if st, ok := data[stateKey].(*connState); ok && st.tracer == t {
		return st
	}
	st := &connState{tracer: t, info: t.info(conn.Config(), pc)}
	if data != nil {
		data[stateKey] = st
	}
	return st
}

// newOp starts the state of an operation on the connection of st. The
// operation takes the acquire wait the connection has yet to report.
func newOp(ctx context.Context, st *connState, summary string) *op {
	o := &op{Context: ctx, start: time.Now(), info: st.info, summary: summary}
	if st.waited {
		o.wait, o.waited, st.waited = st.wait, true, false
	}
	return o
}
