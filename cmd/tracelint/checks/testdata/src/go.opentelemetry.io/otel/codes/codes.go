// Package codes is a stub of the OpenTelemetry codes package for the tests.
package codes

type Code uint32

const (
	Unset Code = 0
	Error Code = 1
	Ok    Code = 2
)
