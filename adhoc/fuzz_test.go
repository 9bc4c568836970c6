package adhoc

import (
	"errors"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stanza"
)

// FuzzSubmitted feeds arbitrary <command/> contents to the form reader
// against the add-user form: it never panics, refuses only with stanza
// errors, and accepts only forms whose required fields are filled.
func FuzzSubmitted(f *testing.F) {
	for _, s := range []string{
		``,
		`<x xmlns="jabber:x:data" type="submit"><field var="accountjid"><value>a@b</value></field><field var="password"><value>p</value></field><field var="password-verify"><value>p</value></field></x>`,
		`<x xmlns="jabber:x:data" type="cancel"><field var="accountjid"><value/></field></x>`,
		`<x xmlns="jabber:x:data" type="form"/>`,
		`<x xmlns="jabber:x:data"><field><value>1</value><value>2</value></field></x>`,
		`<x xmlns="urn:other"/>`,
	} {
		f.Add(s)
	}
	shown := addUserForm()
	f.Fuzz(func(t *testing.T, inner string) {
		rd := xml.NewReader(strings.NewReader(`<command xmlns="`+NS+`">`+inner+`</command>`), xml.DefaultLimits, 0)
		// The command element is read as a stream start; its children
		// are collected into one element by hand.
		if _, _, err := rd.ReadStreamStart(); err != nil {
			return
		}
		cmd := xml.New(NS, "command")
		for {
			el, err := rd.Next()
			if err != nil {
				break
			}
			cmd.Append(el)
		}
		form, err := submitted(cmd, shown)
		if err != nil {
			var se *stanza.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *stanza.Error", err, err)
			}
			return
		}
		for _, v := range []string{"accountjid", "password", "password-verify"} {
			if strings.Join(form[v], "") == "" {
				t.Fatalf("accepted without %s: %s", v, inner)
			}
		}
		for v, vals := range form {
			if len(vals) > maxFieldValues {
				t.Fatalf("field %s has %d values", v, len(vals))
			}
		}
	})
}
