//go:build !unix

package sqlite

import "time"

// processCPU is not measured here: cpu-µs/row reads 0.
func processCPU() time.Duration { return 0 }
