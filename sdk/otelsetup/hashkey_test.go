package otelsetup_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/sdk/otelsetup"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

const (
	testHashKey   = "5f0c7a4e9b2d41c8a6e3f7b1d9c2e4a8"
	optionHashKey = "an option's key, not the operator's"
)

// keyedUserID is user.id as exported under key: HMAC-SHA256, 32 hex digits.
func keyedUserID(key, id string) string {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(id))
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:32]
}

// setupForKey runs Setup with a recorder and returns the user.id of a span
// it exports, and tracing.RedactAttr's hash of the same id afterwards.
func setupForKey(t *testing.T, opts ...otelsetup.Option) (span, redactAttr string) {
	t.Helper()
	t.Cleanup(func() { tracing.SetHashKey(nil) })
	rec := tracingtest.New(t, tracingtest.WithoutGlobals(), tracingtest.WithoutRedaction())
	var p otelsetup.Providers
	opts = append([]otelsetup.Option{otelsetup.WithServiceName("orders"), otelsetup.WithoutGlobals(&p), otelsetup.WithSpanExporter(rec.Exporter())}, opts...)
	shutdown, err := otelsetup.Setup(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	_, s := p.TracerProvider.Tracer("test").Start(context.Background(), "orders.place")
	s.SetAttributes(tracing.UserID.String("u-7"))
	s.End()
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v, ok := tracingtest.Attr(rec.Span(t, "orders.place").Attributes(), tracing.UserID.Key()); ok {
		span = v.AsString()
	}
	return span, tracing.RedactAttr(tracing.UserID.String("u-7")).Value.AsString()
}

func TestSetup_HashKeyFromVariable(t *testing.T) {
	setenv(t, "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none", "OTELKIT_HASH_KEY", testHashKey)
	span, redacted := setupForKey(t)
	if want := keyedUserID(testHashKey, "u-7"); span != want || redacted != want {
		t.Errorf("user.id on the span %q, from RedactAttr %q, want the keyed hash %q", span, redacted, want)
	}
}

func TestSetup_HashKeyFromFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hash-key")
	// A secret mounted from a file often ends in a newline: the key is the
	// same as in the variable.
	if err := os.WriteFile(file, []byte(testHashKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	setenv(t, "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none", "OTELKIT_HASH_KEY_FILE", file)
	span, redacted := setupForKey(t)
	if want := keyedUserID(testHashKey, "u-7"); span != want || redacted != want {
		t.Errorf("user.id on the span %q, from RedactAttr %q, want the keyed hash %q", span, redacted, want)
	}
}

// TestSetup_HashKeyPrecedence checks that the operator's variable wins over
// the program's RedactionRules.HashKey, which applies without it, and that
// the key that wins is the process's (RedactAttr, log lines).
func TestSetup_HashKeyPrecedence(t *testing.T) {
	rules := otelsetup.WithRedaction(tracing.RedactionRules{HashKey: []byte(optionHashKey)})
	t.Run("variable wins", func(t *testing.T) {
		setenv(t, "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none", "OTELKIT_HASH_KEY", testHashKey)
		span, redacted := setupForKey(t, rules)
		if want := keyedUserID(testHashKey, "u-7"); span != want || redacted != want {
			t.Errorf("user.id on the span %q, from RedactAttr %q, want %q", span, redacted, want)
		}
	})
	t.Run("option without variable", func(t *testing.T) {
		setenv(t, "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none")
		span, redacted := setupForKey(t, rules)
		if want := keyedUserID(optionHashKey, "u-7"); span != want || redacted != want {
			t.Errorf("user.id on the span %q, from RedactAttr %q, want %q", span, redacted, want)
		}
	})
}

func TestSetup_BadHashKeyConfig(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "key")
	if err := os.WriteFile(good, []byte(testHashKey), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		env      []string
		variable string
	}{
		{"both set", []string{"OTELKIT_HASH_KEY", testHashKey, "OTELKIT_HASH_KEY_FILE", good}, "OTELKIT_HASH_KEY"},
		{"too short", []string{"OTELKIT_HASH_KEY", "hunter2-hunter"}, "OTELKIT_HASH_KEY"},
		{"empty file", []string{"OTELKIT_HASH_KEY_FILE", empty}, "OTELKIT_HASH_KEY_FILE"},
		{"missing file", []string{"OTELKIT_HASH_KEY_FILE", filepath.Join(dir, "absent")}, "OTELKIT_HASH_KEY_FILE"},
		{"a directory", []string{"OTELKIT_HASH_KEY_FILE", dir}, "OTELKIT_HASH_KEY_FILE"},
	} {
		for _, disabled := range []string{"false", "true"} {
			t.Run(tc.name+"/disabled="+disabled, func(t *testing.T) {
				setenv(t, append([]string{"OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none", "OTEL_SDK_DISABLED", disabled}, tc.env...)...)
				t.Cleanup(func() { tracing.SetHashKey(nil) })
				shutdown, err := otelsetup.Setup(context.Background(), otelsetup.WithServiceName("orders"), otelsetup.WithoutGlobals(&otelsetup.Providers{}))
				defer func() { _ = shutdown(context.Background()) }()
				var ce *otelsetup.ConfigError
				if !errors.As(err, &ce) || ce.Variable != tc.variable {
					t.Fatalf("Setup = %v, want a *ConfigError naming %s", err, tc.variable)
				}
				for _, secret := range []string{testHashKey, "hunter2-hunter"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q shows the key", err)
					}
				}
			})
		}
	}
}

// TestSetHashKey checks the process-wide key for programs without Setup:
// RedactAttr and every redactor without a key of its own use it; a
// redactor with its own key keeps it.
func TestSetHashKey(t *testing.T) {
	t.Cleanup(func() { tracing.SetHashKey(nil) })
	id := tracing.UserID.String("u-7")
	own := tracing.NewRedactor(tracing.RedactionRules{HashKey: []byte(optionHashKey)})
	def := tracing.NewRedactor(tracing.RedactionRules{})
	plain := tracing.RedactAttr(id)
	tracing.SetHashKey([]byte(testHashKey))
	want := keyedUserID(testHashKey, "u-7")
	got, _ := def.Attr(id)
	if v := tracing.RedactAttr(id).Value.AsString(); v != want || got.Value.AsString() != want {
		t.Errorf("RedactAttr %q, default redactor %q, want %q", v, got.Value.AsString(), want)
	}
	if got, _ := own.Attr(id); got.Value.AsString() != keyedUserID(optionHashKey, "u-7") {
		t.Errorf("redactor with its own key: %q", got.Value.AsString())
	}
	tracing.SetHashKey(nil)
	if got := tracing.RedactAttr(id); got != plain {
		t.Errorf("after removing the key: %v, want %v", got, plain)
	}
}
