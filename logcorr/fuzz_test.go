package logcorr

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// FuzzHandler feeds arbitrary group names, keys, values and messages through
// the handler with a live span: every line must stay valid JSON with the ids
// at the root, whatever the caller's strings.
func FuzzHandler(f *testing.F) {
	f.Add("req", "trace_id", "v", "msg", "http://j/{trace_id}")
	f.Add("", "", "", "", "")
	f.Add("a.b", "span_id", "\x00\"{", "\n", "{span_id}{trace_id}{")
	// Redacted on the way: a hashed key, a secret key, secrets in values
	// and the message.
	f.Add("req", "user.id", "u-7", "card 4111 1111 1111 1111", "")
	f.Add("auth", "authorization", "Bearer abcdefghijklmnopqrstuvwxyz", "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln", "")
	f.Fuzz(func(t *testing.T, group, key, value, msg, url string) {
		var s jsonSink
		var l *slog.Logger = slog.New(NewHandler(s.handler(), WithTraceURL("u", url), WithSpanEvents(slog.LevelInfo)))
		l = l.With(key, value).WithGroup(group).With(key, value)
		l.InfoContext(spanCtx(true), msg, key, value, slog.Group(group, key, value))
		var m map[string]any
		line := strings.TrimSuffix(s.buf.String(), "\n")
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("invalid JSON %q: %v", line, err)
		}
		if m["span_id"] != testSpanHex || m["trace_flags"] != "01" {
			t.Fatalf("ids missing at the root: %q", line)
		}
	})
}
