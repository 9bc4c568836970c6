package c2s

import (
	"context"
	"log/slog"
)

// connLog is the handler of a connection's logger. It adds the
// connection's attributes (conn, remote, then user and jid once known) to
// each record as it is logged; slog's Logger.With would format them when
// the connection starts and keep the result, a buffer per connection that
// most connections never use (at the default level an idle connection
// logs nothing). Immutable: a new identity is a new connLog (withIdentity).
type connLog struct {
	h         slog.Handler
	c         *conn // its id and remote address are fixed for its life
	user, jid string
}

// newConnLogger returns c's logger, with the identity known so far.
func newConnLogger(c *conn, user, jid string) *slog.Logger {
	return slog.New(&connLog{h: c.srv.log.Handler(), c: c, user: user, jid: jid})
}

func (l *connLog) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

func (l *connLog) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(slog.String("conn", l.c.id), slog.String("remote", l.c.raw.RemoteAddr().String()))
	if l.user != "" {
		out.AddAttrs(slog.String("user", l.user))
	}
	if l.jid != "" {
		out.AddAttrs(slog.String("jid", l.jid))
	}
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return l.h.Handle(ctx, out)
}

// WithAttrs and WithGroup wrap the inner handler; the connection's own
// attributes then follow those (and, with a group, go into it).
func (l *connLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &connLog{h: l.h.WithAttrs(attrs), c: l.c, user: l.user, jid: l.jid}
}

func (l *connLog) WithGroup(name string) slog.Handler {
	return &connLog{h: l.h.WithGroup(name), c: l.c, user: l.user, jid: l.jid}
}
