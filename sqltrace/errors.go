package sqltrace

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/tracing"
)

// failed reports whether err fails the operation run under ctx, by the one
// classifier of the module (tracing.Failed): sql.ErrNoRows and the caller's
// cancellation never do, WithErrorClassifier and then the tracing
// classifier decide the rest.
func (t *Tracer) failed(ctx context.Context, err error) bool {
	return tracing.Failed(ctx, t.provider(), err, t.expected)
}

// The SQLSTATE is the error.type of a PostgreSQL error on every span,
// this package's and those the application ends with one.
func init() { tracing.RegisterErrorTyper(sqlState) }

// sqlState returns the SQLSTATE of a PostgreSQL error, or "".
func sqlState(err error) string {
	if err == nil {
		return ""
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// errorType is the error.type of err, a failure under ctx: "timeout" for
// deadlines, its SQLSTATE when the server answered, the Go type otherwise
// (tracing.ErrorType).
func errorType(ctx context.Context, err error) attribute.KeyValue {
	return tracing.ErrorType(ctx, err)
}
