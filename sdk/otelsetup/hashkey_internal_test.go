package otelsetup

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

// TestSetup_NoHashKeyReportedOncePerProcess checks that a process running
// several services learns once, through otel.Handle, that personal data is
// hashed without a key.
func TestSetup_NoHashKeyReportedOncePerProcess(t *testing.T) {
	for _, v := range []string{envHashKey, envHashKeyFile, envTracesExporter, envMetricsExporter, envServiceName} {
		t.Setenv(v, "")
	}
	t.Setenv(envTracesExporter, "none")
	t.Setenv(envMetricsExporter, "none")
	tracing.SetHashKey(nil)
	noHashKeyReported.Store(false)
	t.Cleanup(func() { noHashKeyReported.Store(false) })
	reports := tracingtest.Reports(t)

	for _, svc := range []string{"orders", "payments"} {
		var p Providers
		shutdown, err := Setup(context.Background(), WithServiceName(svc), WithoutGlobals(&p))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = shutdown(context.Background()) })
	}
	var notices []error
	for _, err := range reports() {
		if errors.Is(err, ErrNoHashKey) {
			notices = append(notices, err)
		}
	}
	if len(notices) != 1 {
		t.Fatalf("got %d notices of the missing hash key, want 1: %v", len(notices), reports())
	}
	if msg := notices[0].Error(); !strings.Contains(msg, envHashKey) || !strings.Contains(msg, envHashKeyFile) {
		t.Errorf("notice %q does not name %s and %s", msg, envHashKey, envHashKeyFile)
	}

	// With a key, no notice, even on a fresh process state.
	noHashKeyReported.Store(false)
	t.Setenv(envHashKey, "0123456789abcdef0123456789abcdef")
	t.Cleanup(func() { tracing.SetHashKey(nil) })
	before := len(reports())
	shutdown, err := Setup(context.Background(), WithServiceName("shipping"), WithoutGlobals(&Providers{}))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = shutdown(context.Background()) }()
	for _, err := range reports()[before:] {
		if errors.Is(err, ErrNoHashKey) {
			t.Errorf("notice with %s set: %v", envHashKey, err)
		}
	}
}

// FuzzParseHashKey checks that any content of the variable or the file
// either gives its trimmed bytes, at least minHashKeyLen of them, or an
// error that does not quote it.
func FuzzParseHashKey(f *testing.F) {
	for _, s := range []string{"", " ", "short", "0123456789abcdef", "0123456789abcdef0123456789abcdef\n", "\t k3y-with-spaces inside \r\n", "\x00\xff\xfe binary key material"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		key, err := parseHashKey(b)
		if !bytes.Equal(b, in) {
			t.Fatalf("parseHashKey modified its input")
		}
		trimmed := bytes.TrimSpace(in)
		if err != nil {
			if key != nil {
				t.Fatalf("key %q with error %v", key, err)
			}
			if len(trimmed) >= minHashKeyLen {
				t.Fatalf("rejected a key of %d bytes: %v", len(trimmed), err)
			}
			if len(trimmed) >= 4 && strings.Contains(err.Error(), string(trimmed)) {
				t.Fatalf("error %q quotes the key", err)
			}
			return
		}
		if !bytes.Equal(key, trimmed) || len(key) < minHashKeyLen {
			t.Fatalf("parseHashKey(%q) = %q", in, key)
		}
	})
}
