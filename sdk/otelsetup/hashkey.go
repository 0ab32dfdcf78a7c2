package otelsetup

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"go.opentelemetry.io/otel"

	"github.com/otelkit/otelkit/tracing"
)

// The variables holding the key of the hash of personal data. They are not
// OpenTelemetry's (its OTEL_ prefix is reserved), hence the prefix of their
// own; the _FILE form is for a mounted secret (a Kubernetes Secret volume).
const (
	envHashKey     = "OTELKIT_HASH_KEY"
	envHashKeyFile = "OTELKIT_HASH_KEY_FILE"
)

// minHashKeyLen is the shortest hash key accepted: a key short enough to be
// guessed would let anyone who guesses it reverse the hashes by hashing
// candidate ids, as plain SHA-256 does.
const minHashKeyLen = 16

// ErrNoHashKey is reported once per process through otel.Handle when
// [Setup] finds no hash key: neither OTELKIT_HASH_KEY nor
// OTELKIT_HASH_KEY_FILE is set, [tracing.RedactionRules].HashKey is empty and
// [tracing.SetHashKey] was not called. Personal data is then hashed with plain
// SHA-256, which anyone can reverse for values they can enumerate (user
// ids). An error handler may filter it with errors.Is, e.g. in tests.
var ErrNoHashKey = errors.New("tracing: no hash key: user.id and other personal data are hashed with plain SHA-256, which anyone can reverse by hashing candidate values; set OTELKIT_HASH_KEY (or OTELKIT_HASH_KEY_FILE, a file holding it) to the same secret in every service")

// noHashKeyReported makes the report of ErrNoHashKey once per process: a
// process may run several Setups (see WithoutGlobals).
var noHashKeyReported atomic.Bool

// hashKeyFromEnv returns the key OTELKIT_HASH_KEY or OTELKIT_HASH_KEY_FILE
// holds, or nil when neither is set. The key never appears in an error.
func hashKeyFromEnv() ([]byte, error) {
	inline, file := getenv(envHashKey), getenv(envHashKeyFile)
	switch {
	case inline != "" && file != "":
		return nil, &ConfigError{Variable: envHashKey, Value: "<redacted>",
			Err: fmt.Errorf("%s is set too: set only one of them", envHashKeyFile)}
	case inline != "":
		key, err := parseHashKey([]byte(inline))
		if err != nil {
			return nil, &ConfigError{Variable: envHashKey, Value: "<redacted>", Err: err}
		}
		return key, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, configErr(envHashKeyFile, file, "reading the hash key: %w", err)
		}
		key, err := parseHashKey(b)
		if err != nil {
			return nil, configErr(envHashKeyFile, file, "%w", err)
		}
		return key, nil
	}
	return nil, nil
}

// parseHashKey returns the key in b without surrounding white space, so
// that a file ending in a newline holds the same key as the variable.
func parseHashKey(b []byte) ([]byte, error) {
	key := bytes.TrimSpace(b)
	if len(key) == 0 {
		return nil, errors.New("the hash key is empty")
	}
	if len(key) < minHashKeyLen {
		return nil, fmt.Errorf("the hash key has %d bytes, want at least %d (e.g. the output of openssl rand -hex 32)", len(key), minHashKeyLen)
	}
	return key, nil
}

// useHashKey settles the hash key of Setup's redactor and the process:
// OTELKIT_HASH_KEY or OTELKIT_HASH_KEY_FILE (env) wins over the
// [tracing.RedactionRules].HashKey of [WithRedaction], like every variable over an
// option, and the winner is installed process-wide. Without either, the
// key installed earlier (SetHashKey, another Setup) stays; without that
// too, ErrNoHashKey is reported, once per process.
func (c *conventionsConfig) useHashKey(env []byte) {
	if len(env) > 0 {
		c.rules.HashKey = env
		c.redactor = nil
	}
	switch {
	case len(c.rules.HashKey) > 0:
		tracing.SetHashKey(c.rules.HashKey)
	case !tracing.HasHashKey() && noHashKeyReported.CompareAndSwap(false, true):
		otel.Handle(ErrNoHashKey)
	}
}
