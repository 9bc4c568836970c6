package loadgen

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Mechanisms the client implements.
const (
	MechSCRAMSHA256 = "SCRAM-SHA-256"
	MechSCRAMSHA1   = "SCRAM-SHA-1"
	MechPlain       = "PLAIN"
)

// Target is the server under test and how to log in to it. Use a pointer:
// it caches SCRAM salted passwords, as real clients do, so that the
// bench's own PBKDF2 work does not dominate logins.
type Target struct {
	Addr      string // host:port of the c2s (STARTTLS or plain) listener
	Domain    string
	StartTLS  bool
	Mechanism string        // MechSCRAMSHA256, MechSCRAMSHA1 or MechPlain
	Timeout   time.Duration // per request, per login, and the stall limit

	// UserPattern makes account i's localpart: "user%d" → user1, user2…
	UserPattern string
	// PasswordPattern makes its password: with %s the localpart is
	// substituted ("pw-%s"), else with a % verb the index ("pw-user%d"),
	// else it is one fixed password for every account.
	PasswordPattern string
	// FirstUser is the index of the first account a scenario uses.
	FirstUser int
	// LoginParallel bounds concurrent logins (0 = 32).
	LoginParallel int

	// Log receives progress lines (nil = silent).
	Log func(format string, args ...any)

	salted sync.Map // saltKey → salted password
}

// Validate checks the fields scenarios rely on.
func (t *Target) Validate() error {
	switch {
	case t.Addr == "":
		return errors.New("no server address")
	case t.Domain == "":
		return errors.New("no domain")
	case !strings.Contains(t.UserPattern, "%"):
		return fmt.Errorf("user pattern %q has no %%d", t.UserPattern)
	case t.Timeout <= 0:
		return errors.New("timeout must be positive")
	}
	switch t.Mechanism {
	case MechSCRAMSHA256, MechSCRAMSHA1, MechPlain:
	default:
		return fmt.Errorf("unknown SASL mechanism %q (want %s, %s or %s)", t.Mechanism, MechSCRAMSHA256, MechSCRAMSHA1, MechPlain)
	}
	return nil
}

// User returns account i's localpart (i counts from 0 at FirstUser).
func (t *Target) User(i int) string { return fmt.Sprintf(t.UserPattern, t.FirstUser+i) }

// Password returns account i's password.
func (t *Target) Password(i int) string {
	p := t.PasswordPattern
	switch {
	case strings.Contains(p, "%s"):
		return strings.ReplaceAll(p, "%s", t.User(i))
	case strings.Contains(p, "%"):
		return fmt.Sprintf(p, t.FirstUser+i)
	}
	return p
}

func (t *Target) logf(format string, args ...any) {
	if t.Log != nil {
		t.Log(format, args...)
	}
}

// loginSpec names one connection to open.
type loginSpec struct {
	account  int
	resource string
	presence bool
}

// loginAll opens the connections concurrently (LoginParallel at a time).
// On any failure it closes what it opened and returns the first error.
// lat, if not nil, receives each login's duration.
func (t *Target) loginAll(ctx context.Context, specs []loginSpec, lat []time.Duration) ([]*Client, error) {
	par := t.LoginParallel
	if par <= 0 {
		par = 32
	}
	clients := make([]*Client, len(specs))
	errs := make([]error, len(specs))
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, s := range specs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			start := time.Now()
			c, err := t.Login(ctx, s.account, s.resource)
			if err == nil && s.presence {
				if err = c.Available(ctx); err != nil {
					c.Close()
					c = nil
				}
			}
			if lat != nil {
				lat[i] = time.Since(start)
			}
			clients[i], errs[i] = c, err
		}()
	}
	wg.Wait()
	var first error
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
		}
	}
	if first != nil {
		closeAll(clients)
		return nil, fmt.Errorf("%d of %d logins failed, first: %w", failed, len(specs), first)
	}
	return clients, nil
}

// closeAll closes the clients concurrently; nil entries are skipped.
func closeAll(clients []*Client) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, c := range clients {
		if c == nil {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() { defer func() { <-sem; wg.Done() }(); c.Close() }()
	}
	wg.Wait()
}
