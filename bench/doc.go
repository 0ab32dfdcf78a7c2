// Package bench holds side-by-side benchmarks of otelkit against the
// libraries a user would pick instead. It is a separate module so that those
// libraries never enter a user's go.mod. See README.md.
package bench
