package server

import (
	"context"
	"errors"

	"github.com/skald-xmpp/skald/jid"
)

// afterAccountDeleted removes what an account deleted in-band (register)
// held outside the store's account data: its uploads, and its
// affiliations in the rooms (muc.ForgetAccount), and the push
// registrations cached in memory (push.ForgetAccount) and the photo hash
// vcard puts in presence (vcard.ForgetAccount), which a new account of
// the same name must not inherit.
func (s *Server) afterAccountDeleted(ctx context.Context, account jid.JID) error {
	err := s.removeUploads(ctx, account)
	if s.MUC != nil {
		err = errors.Join(err, s.MUC.ForgetAccount(ctx, account))
	}
	if s.Push != nil {
		err = errors.Join(err, s.Push.ForgetAccount(ctx, account))
	}
	if s.VCard != nil {
		s.VCard.ForgetAccount(account)
	}
	return err
}
