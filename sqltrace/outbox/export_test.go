package outbox

// Steps of a batch, for the crash tests of package outbox_test.
const (
	StepClaimed  = stepClaimed
	StepProduced = stepProduced
	StepAnswered = stepAnswered
	StepSettled  = stepSettled
)

// Step is a point in a batch's life (see [step]).
type Step = step

// SetStepHook makes r call fn at each step of every batch; call it before
// Run.
func SetStepHook(r *Relay, fn func(s Step, ids []int64)) { r.stepHook = fn }
