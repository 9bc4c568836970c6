package c2s

// ParkedCount returns the number of idle connections that wait without a
// goroutine (see park.go).
func (s *Server) ParkedCount() int { return s.parker.count() }
