package sqltrace

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// failed reports whether err fails the operation: sql.ErrNoRows and the
// caller's cancellation do not; the classifier decides the rest.
func (t *Tracer) failed(ctx context.Context, err error) bool {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return false
	}
	if ctx.Err() == context.Canceled && (errors.Is(err, context.Canceled) || sqlState(err) == "57014") {
		return false
	}
	if t.expected != nil {
		return !t.expected(err)
	}
	return true
}

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

// errorType is the error.type of err: its SQLSTATE when the server
// answered, "timeout" for deadlines, the Go type otherwise.
func errorType(err error, code string) attribute.KeyValue {
	switch {
	case code != "":
		return semconv.ErrorTypeKey.String(code)
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return semconv.ErrorTypeKey.String("timeout")
	}
	return semconv.ErrorType(err)
}
