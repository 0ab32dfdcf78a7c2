package otelsetup

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/otel"

	"github.com/otelkit/otelkit/tracing"
)

// WithErrorLogger routes what OpenTelemetry and the packages of this module
// report in the background through [otel.Handle] (an invalid span name,
// failed exports and the spans they lost, a relay's retried failures, a
// jaeger_remote poll that failed) to logger, one record at level WARN per
// report, from Setup until its shutdown has returned. Each record's message
// is the report; its attributes are those the report carries:
//
//	error.type                 what the conventions compute ([tracing.ErrorType]): for a failed
//	                           export, of its cause ("timeout", the collector's answer); left out
//	                           for a report made with errors.New or fmt.Errorf alone
//	variable, value            for a [*ConfigError]
//	exporter, endpoint, spans  for a failed export ([*ExportError]: the spans lost)
//
// The error handler is process-wide, whereas Setup may run several times in
// a process (one per service, with [WithoutGlobals]): the reports go to the
// logger of the latest Setup with this option whose shutdown has not
// returned, and once every such shutdown has returned, to the handler
// installed before the first of them (the SDK's default, which logs with
// the standard log package, if none was). A handler the program installs
// after Setup replaces this routing, and shutdown leaves it in place. The
// handler runs on the goroutine that reports, and costs what logger's
// handler costs; the reports are already rate-limited at the source.
//
// By default Setup leaves the error handler alone: reports go to the handler
// the program installed with [otel.SetErrorHandler], else to the standard
// log package, which after [slog.SetDefault] writes them as INFO records of
// the default logger, without fields. A nil logger is ignored.
func WithErrorLogger(logger *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if logger != nil {
			c.setup.errorLogger = logger
		}
	})
}

// routing is the process-wide routing of reports to the loggers of the
// running Setups that asked for it.
var routing struct {
	mu      sync.Mutex
	loggers []*slog.Logger // latest last; a logger may be there twice
	router  *errorRouter   // installed as the otel error handler, or nil
	prev    otel.ErrorHandler
}

type errorRouter struct{ prev otel.ErrorHandler }

// routeReports routes reports to l until the function it returns is
// called; with a nil l it does nothing.
func routeReports(l *slog.Logger) (restore func()) {
	if l == nil {
		return func() {}
	}
	routing.mu.Lock()
	defer routing.mu.Unlock()
	if routing.router == nil || otel.GetErrorHandler() != otel.ErrorHandler(routing.router) {
		prev := otel.GetErrorHandler()
		if isDefaultHandler(prev) {
			// The SDK's default handler forwards to the first handler ever
			// set, which is about to be this router: forwarding to it would
			// loop. It logs with the log package; so does this.
			prev = otel.ErrorHandlerFunc(func(err error) { log.Print(err) })
		}
		routing.router = &errorRouter{prev: prev}
		otel.SetErrorHandler(routing.router)
	}
	routing.loggers = append(routing.loggers, l)
	var once sync.Once
	return func() {
		once.Do(func() {
			routing.mu.Lock()
			defer routing.mu.Unlock()
			if i := slices.Index(routing.loggers, l); i >= 0 {
				routing.loggers = slices.Delete(routing.loggers, i, i+1)
			}
			if len(routing.loggers) == 0 && routing.router != nil && otel.GetErrorHandler() == otel.ErrorHandler(routing.router) {
				otel.SetErrorHandler(routing.router.prev)
				routing.router = nil
			}
		})
	}
}

// isDefaultHandler reports whether h is the SDK's initial error handler,
// which cannot be installed again.
func isDefaultHandler(h otel.ErrorHandler) bool {
	t := reflect.TypeOf(h)
	return t != nil && t.Kind() == reflect.Pointer && strings.HasPrefix(t.Elem().PkgPath(), "go.opentelemetry.io/otel/internal/")
}

func (r *errorRouter) Handle(err error) {
	routing.mu.Lock()
	var l *slog.Logger
	if n := len(routing.loggers); n > 0 {
		l = routing.loggers[n-1]
	}
	routing.mu.Unlock()
	if l == nil {
		// Reached through a handler obtained before the routing ended.
		r.prev.Handle(err)
		return
	}
	if err == nil || unsupportedJaegerRemote(err) {
		return
	}
	l.LogAttrs(context.Background(), slog.LevelWarn, err.Error(), reportAttrs(err)...)
}

// unsupportedJaegerRemote reports whether err is the SDK's complaint about
// OTEL_TRACES_SAMPLER=jaeger_remote, which Setup itself supports.
func unsupportedJaegerRemote(err error) bool {
	s := err.Error()
	return s == "unsupported sampler: jaeger_remote" || s == "unsupported sampler: parentbased_jaeger_remote"
}

// reportAttrs returns the attributes of the record of a report.
func reportAttrs(err error) []slog.Attr {
	var attrs []slog.Attr
	cause := err
	if ce := (*ConfigError)(nil); errors.As(err, &ce) {
		attrs = append(attrs, slog.String("variable", ce.Variable), slog.String("value", ce.Value))
	}
	if ee := (*ExportError)(nil); errors.As(err, &ee) {
		attrs = append(attrs, slog.String("exporter", ee.Exporter), slog.Int("spans", ee.Spans))
		if ee.Endpoint != "" {
			attrs = append(attrs, slog.String("endpoint", ee.Endpoint))
		}
		if ee.Err != nil {
			cause = ee.Err // the collector's answer, a timeout
		}
		if ce := (*collectorError)(nil); errors.As(cause, &ce) && ce.err != nil {
			cause = ce.err // the exporter's error, under what the collector said
		}
	}
	// A report made with errors.New or fmt.Errorf has no type worth a
	// field: its message says it all.
	switch t := tracing.ErrorType(context.Background(), cause).Value.AsString(); t {
	case "*errors.errorString", "*fmt.wrapError", "*fmt.wrapErrors", "*errors.joinError":
	default:
		attrs = append(attrs, slog.String("error.type", t))
	}
	return attrs
}
