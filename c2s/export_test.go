package c2s

// ParkedCount returns the number of idle connections that wait without a
// goroutine (see park.go).
func (s *Server) ParkedCount() int { return s.parker.count() }

// CappedCount returns the TCP connections counted against
// MaxConnections (conncap.go).
func (s *Server) CappedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcpOpen
}
