package c2s

import "time"

// tokenBucket throttles one connection's reads. It is used only by the
// connection's reader goroutine, so it needs no lock.
type tokenBucket struct {
	rate, burst float64 // bytes per second, bytes
	tokens      float64
	last        time.Time
	sleep       func(time.Duration) // time.Sleep; replaced in tests
	now         func() time.Time    // time.Now; replaced in tests
}

func newTokenBucket(rate, burst float64) *tokenBucket {
	return &tokenBucket{rate: rate, burst: burst, tokens: burst, last: time.Now(), sleep: time.Sleep, now: time.Now}
}

// take accounts for n bytes read, sleeping until the bucket has refilled
// enough when the client has gone over its rate. Throttling (rather than
// disconnecting) is what RFC 6120 §13.12 calls rate limiting: the client
// simply cannot send faster.
func (b *tokenBucket) take(n int) {
	now := b.now()
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	b.last = now
	b.tokens -= float64(n)
	if b.tokens < 0 {
		wait := time.Duration(-b.tokens / b.rate * float64(time.Second))
		b.sleep(wait)
		b.tokens = 0
		b.last = now.Add(wait)
	}
}
