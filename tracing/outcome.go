package tracing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// This file is the one policy for the outcome of an operation, shared by the
// span helpers and every instrumentation package: whether an error fails the
// operation ([Failed]) and which error.type it gets ([ErrorType]). One
// failure has one error.type in every package, so that "all failed requests
// of every service" is one query.

// ErrorTyper returns the domain code of err that error.type carries, such
// as a SQLSTATE or a Kafka error code name, or "" when err carries none.
// An instrumentation package registers one for the errors of its client
// library ([RegisterErrorTyper]); it runs on the goroutine that ends the
// span, only for failures, and must be safe for concurrent use.
type ErrorTyper func(err error) string

// typers are the registered ErrorTypers, copied on write.
var (
	typersMu sync.Mutex
	typers   atomic.Pointer[[]ErrorTyper]
)

// RegisterErrorTyper adds t to the typers [ErrorType] consults, for every
// span of the process: a package registers the one of its client library in
// its init, so that an error of that library has the same error.type on the
// package's own spans and on any span the application ends with it
// (tracing.End around a repository call that returns a PostgreSQL error
// records its SQLSTATE too). Typers are asked in registration order; the
// first non-empty answer wins.
func RegisterErrorTyper(t ErrorTyper) {
	if t == nil {
		return
	}
	typersMu.Lock()
	defer typersMu.Unlock()
	var next []ErrorTyper
	if cur := typers.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, t)
	typers.Store(&next)
}

// ErrorTypeTimeout is the error.type of an operation whose deadline
// expired, the value the semantic conventions give as their example.
var ErrorTypeTimeout = semconv.ErrorTypeKey.String("timeout")

// Canceled reports whether err, the outcome of an operation run under ctx,
// is the caller giving up: err is or wraps context.Canceled, or ctx was
// cancelled, whatever error the client library reported for it (a
// PostgreSQL query_canceled, a closed connection). ctx may be nil.
func Canceled(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) || ctx != nil && ctx.Err() == context.Canceled
}

// TimedOut reports whether err, the outcome of an operation run under ctx,
// is a timeout: err is or wraps context.DeadlineExceeded, ctx's deadline
// expired, or an error of err's chain reports Timeout() true (net and os
// deadlines, http.Client's timeout). ctx may be nil.
func TimedOut(ctx context.Context, err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || ctx != nil && ctx.Err() == context.DeadlineExceeded {
		return true
	}
	return timeout(err)
}

// timeout walks err's chain for an error that says it is a timeout, the
// way errors.As does, without the allocation of an interface target.
func timeout(err error) bool {
	for err != nil {
		if t, ok := err.(interface{ Timeout() bool }); ok && t.Timeout() {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if timeout(e) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// Failed reports whether err fails an operation run under ctx whose span
// comes from tp. It is the one classifier of the module:
//
//   - nil, the caller's cancellation ([Canceled]) and sql.ErrNoRows are
//     never failures;
//   - an error local (an instrumentation's own classifier, may be nil)
//     calls expected is not;
//   - then the classifier set for tp ([SetProviderErrorClassifier], which
//     tracing.Setup's WithErrorClassifier uses), or else the process-wide
//     one ([SetErrorClassifier]), decides;
//   - every other error, a deadline included, is a failure.
//
// ctx and tp may be nil.
func Failed(ctx context.Context, tp trace.TracerProvider, err error, local ErrorClassifier) bool {
	if err == nil || Canceled(ctx, err) || errors.Is(err, sql.ErrNoRows) {
		return false
	}
	if local != nil && local(err) {
		return false
	}
	return !classified(tp, err)
}

// ErrorType returns the error.type of err, a failure of an operation run
// under ctx (may be nil):
//
//   - "timeout" when the operation timed out ([TimedOut]), whichever
//     package ran it;
//   - otherwise the domain code a registered typer returns
//     ([RegisterErrorTyper]): the SQLSTATE of a PostgreSQL error, the code
//     name of a Kafka error;
//   - otherwise the value of an ErrorType() string method in err's chain,
//     or err's Go type, as semconv.ErrorType computes it, past the wrappers
//     that do not classify a failure: fmt.Errorf's and *url.Error (so that
//     http.Client.Do's error has the type the transport's has,
//     "*net.OpError").
func ErrorType(ctx context.Context, err error) attribute.KeyValue {
	if TimedOut(ctx, err) {
		return ErrorTypeTimeout
	}
	if ts := typers.Load(); ts != nil {
		for _, t := range *ts {
			if code := t(err); code != "" {
				return semconv.ErrorTypeKey.String(code)
			}
		}
	}
	return semconv.ErrorType(unwrapURL(err))
}

var fmtWrapType = reflect.TypeOf(fmt.Errorf("%w", errors.New("")))

// unwrapURL removes the fmt.Errorf wrappers and *url.Error around err.
func unwrapURL(err error) error {
	for {
		if u, ok := err.(*url.Error); ok && u.Err != nil {
			err = u.Err
			continue
		}
		if reflect.TypeOf(err) == fmtWrapType {
			if inner := errors.Unwrap(err); inner != nil {
				if _, ok := inner.(*url.Error); ok {
					err = inner
					continue
				}
			}
		}
		return err
	}
}

// RecordOutcome records err, the outcome of span's operation run under ctx
// (may be nil), by the one policy: nothing when [Failed] says it is not a
// failure; otherwise status Error with err's message, error.type from
// [ErrorType], and an exception event. It does not end the span.
func RecordOutcome(ctx context.Context, span trace.Span, err error) {
	if err == nil || !span.IsRecording() || !Failed(ctx, span.TracerProvider(), err, nil) {
		return
	}
	span.SetStatus(codes.Error, err.Error())
	span.SetAttributes(ErrorType(ctx, err))
	span.RecordError(err)
}
