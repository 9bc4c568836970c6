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
// logs nothing). Immutable: a new identity is a new logger (newConnLogger).
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
	out.AddAttrs(l.identity()...)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return l.h.Handle(ctx, out)
}

// identity returns the connection's attributes.
func (l *connLog) identity() []slog.Attr {
	attrs := []slog.Attr{slog.String("conn", l.c.id), slog.String("remote", l.c.raw.RemoteAddr().String())}
	if l.user != "" {
		attrs = append(attrs, slog.String("user", l.user))
	}
	if l.jid != "" {
		attrs = append(attrs, slog.String("jid", l.jid))
	}
	return attrs
}

// WithAttrs and WithGroup (which nothing in c2s calls) hand the
// connection's attributes to the inner handler first, so that they stay
// at the top level, outside any group, as Logger.With would have them.
func (l *connLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return l.h.WithAttrs(l.identity()).WithAttrs(attrs)
}

func (l *connLog) WithGroup(name string) slog.Handler {
	return l.h.WithAttrs(l.identity()).WithGroup(name)
}
