// Package policytest holds the test that drives every instrumentation
// package of the repository through the same failures (a caller's cancel,
// an expired deadline, a driver or broker error) and asserts that each
// records the same status and error.type, decides through the same
// classifier and resolves its providers by the same rule. It is a module of
// its own because it imports all of them.
package policytest
