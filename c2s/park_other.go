//go:build !linux

package c2s

import "time"

// parker is Linux only (park_linux.go); elsewhere idle connections wait
// on goroutines (awaitInput).
type parker struct{}

func newParker(*Server) *parker            { return &parker{} }
func (*parker) park(*conn, time.Time) bool { return false }
func (*parker) closing(*conn)              {}
func (*parker) stop()                      {}
func (*parker) count() int                 { return 0 }
