// Package attribute is a stub of the OpenTelemetry attribute API for the tests.
package attribute

type Key string

type Value struct{}

type KeyValue struct {
	Key   Key
	Value Value
}

func (k Key) String(v string) KeyValue { return KeyValue{Key: k} }

func String(k, v string) KeyValue      { return KeyValue{Key: Key(k)} }
func Int(k string, v int) KeyValue     { return KeyValue{Key: Key(k)} }
func Int64(k string, v int64) KeyValue { return KeyValue{Key: Key(k)} }
func Float64(k string, v float64) KeyValue {
	return KeyValue{Key: Key(k)}
}
func Bool(k string, v bool) KeyValue { return KeyValue{Key: Key(k)} }

type Type int

const (
	INVALID Type = iota
	BOOL
	INT64
	FLOAT64
	STRING
)
