package logcorr

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

const (
	testJWT    = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTcifQ.c2lnbmF0dXJlLWJ5dGVz"
	testBearer = "Bearer abcdefghijklmnopqrstuvwxyz"
	testCard   = "4111 1111 1111 1111"
)

// TestRedaction_LineHashEqualsSpanHash checks that under one process-wide
// hash key (what otelsetup.Setup installs from OTELKIT_HASH_KEY), a log
// line's user.id, from WithBusiness or from the record, is the keyed hash
// the exported span carries.
func TestRedaction_LineHashEqualsSpanHash(t *testing.T) {
	const key = "5f0c7a4e9b2d41c8a6e3f7b1d9c2e4a8"
	tracing.SetHashKey([]byte(key))
	t.Cleanup(func() { tracing.SetHashKey(nil) })
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())

	var s jsonSink
	logger := slog.New(NewHandler(s.handler(), WithBusiness(tracing.UserID.Key(), orderID.Key())))
	ctx, span := rec.TracerProvider().Tracer("test").Start(context.Background(), "orders.place")
	ctx = tracing.SetBusiness(ctx, tracing.UserID.String("u-7"), orderID.String("ord-1042"))
	logger.InfoContext(ctx, "order accepted")
	logger.Info("order accepted", "user.id", "u-7")
	span.End()
	spans := rec.Find("orders.place")
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1", len(spans))
	}
	var onSpan string
	if v, ok := tracingtest.Attr(spans[0].Attributes(), tracing.UserID.Key()); ok {
		onSpan = v.AsString()
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte("u-7"))
	want := "sha256:" + hex.EncodeToString(mac.Sum(nil))[:32]
	if onSpan != want {
		t.Fatalf("span user.id = %q, want the keyed hash %q", onSpan, want)
	}
	lines := s.lines(t)
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), s.buf.String())
	}
	if got := lines[0]["user.id"]; got != onSpan {
		t.Errorf("WithBusiness line: user.id = %v, want the span's %q", got, onSpan)
	}
	if got := lines[0]["order.id"]; got != "ord-1042" {
		t.Errorf("WithBusiness line: order.id = %v, want it unchanged", got)
	}
	if got := lines[1]["user.id"]; got != onSpan {
		t.Errorf("record attribute: user.id = %v, want the span's %q", got, onSpan)
	}
	if strings.Contains(s.buf.String(), `"u-7"`) {
		t.Errorf("user id in clear:\n%s", s.buf.String())
	}
}

// TestRedaction_SecretsMasked logs the same secrets in the message, in
// record attributes, inside groups, in With attributes and in an error, on
// both paths (correlated and not), and checks each line.
func TestRedaction_SecretsMasked(t *testing.T) {
	want := map[string]any{
		"msg":           "retry with token eyJ...GVz",
		"authorization": "Bearer abc...xyz",
		"db.password":   "***",
		"note":          "card ****1111 declined",
		"err":           "charge of card ****1111 failed",
		"items":         float64(3),
		"req": map[string]any{
			"api_key": "***",
			"cookie":  "ses...pqr",
			"body":    map[string]any{"password": "***", "sku": "sku-1"},
		},
	}
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{{"no span", context.Background()}, {"span", spanCtx(true)}} {
		t.Run(tc.name, func(t *testing.T) {
			var s jsonSink
			logger := slog.New(NewHandler(s.handler())).With("authorization", testBearer).
				WithGroup("req").With("api_key", "k-123")
			logger.InfoContext(tc.ctx, "retry with token "+testJWT,
				"cookie", "session=abcdefghijklmnopqr",
				slog.Group("body", "password", "hunter2", "sku", "sku-1"),
			)
			got := s.one(t)
			for _, k := range []string{"time", "level", "trace_id", "span_id", "trace_flags"} {
				delete(got, k)
			}
			wantReq := map[string]any{"msg": want["msg"], "authorization": want["authorization"], "req": want["req"]}
			if !reflect.DeepEqual(got, wantReq) {
				t.Errorf("got  %v\nwant %v", got, wantReq)
			}

			// Attributes at the root, through a logger without the group.
			s.buf.Reset()
			slog.New(NewHandler(s.handler())).InfoContext(tc.ctx, "retry with token "+testJWT,
				"db.password", "hunter2",
				"note", "card "+testCard+" declined",
				"err", errors.New("charge of card "+testCard+" failed"),
				"items", 3,
			)
			got = s.one(t)
			for _, k := range []string{"time", "level", "trace_id", "span_id", "trace_flags"} {
				delete(got, k)
			}
			wantRoot := map[string]any{"msg": want["msg"], "db.password": want["db.password"], "note": want["note"], "err": want["err"], "items": want["items"]}
			if !reflect.DeepEqual(got, wantRoot) {
				t.Errorf("got  %v\nwant %v", got, wantRoot)
			}
		})
	}
}

// TestRedaction_DroppedPersonalKeyLeftOut checks that a key registered as
// personal data to drop never reaches the line, from the record or from
// With. (Such a key cannot travel, so it is never in the business context.)
func TestRedaction_DroppedPersonalKeyLeftOut(t *testing.T) {
	email := tracing.NewStringKey("customer.email_test", tracing.PersonalData(tracing.DropPersonal))
	var s jsonSink
	slog.New(NewHandler(s.handler())).With(string(email.Key()), "bob@example.com").
		InfoContext(spanCtx(true), "signed up", string(email.Key()), "cy@example.com", "plan", "pro")
	line := s.one(t)
	if _, ok := line[string(email.Key())]; ok || strings.Contains(s.buf.String(), "example.com") {
		t.Errorf("dropped personal key written: %s", s.buf.String())
	}
	if line["plan"] != "pro" {
		t.Errorf("plan = %v, want pro", line["plan"])
	}
}

func TestWithoutRedaction(t *testing.T) {
	var s jsonSink
	ctx := tracing.SetBusiness(spanCtx(true), tracing.UserID.String("u-7"))
	slog.New(NewHandler(s.handler(), WithoutRedaction(), WithBusiness())).
		InfoContext(ctx, "login with "+testBearer, "db.password", "hunter2")
	line := s.one(t)
	if line["msg"] != "login with "+testBearer || line["db.password"] != "hunter2" || line["user.id"] != "u-7" {
		t.Errorf("WithoutRedaction changed the line: %v", line)
	}
}

// TestRedaction_BridgeEventName checks that the error bridge names the span
// event after the redacted message: event names are not redacted on export.
func TestRedaction_BridgeEventName(t *testing.T) {
	rec, span, _ := logInSpan(t, []Option{WithSpanEvents(slog.LevelWarn)}, func(ctx context.Context, l *slog.Logger) {
		l.With("authorization", testBearer).WarnContext(ctx, "retry with token "+testJWT)
	})
	evs := span.Events()
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	if evs[0].Name != "retry with token eyJ...GVz" {
		t.Errorf("event name %q", evs[0].Name)
	}
	rec.AssertEventAttrs(t, span, evs[0].Name, attribute.String("authorization", "Bearer abc...xyz"))
}
