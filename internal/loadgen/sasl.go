package loadgen

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"

	"github.com/skald-xmpp/skald/internal/xml"
)

// authenticate runs the target's SASL mechanism (RFC 6120 §6): PLAIN
// (RFC 4616) or SCRAM without channel binding (RFC 5802, RFC 7677).
func (c *Client) authenticate(t *Target, feat *xml.Element, user, pass string) error {
	var offered []string
	for _, m := range feat.Child(nsSASL, "mechanisms").ChildrenNamed(nsSASL, "mechanism") {
		offered = append(offered, m.Text())
	}
	if !slices.Contains(offered, t.Mechanism) {
		return fmt.Errorf("server does not offer %s (offers %s)", t.Mechanism, strings.Join(offered, ", "))
	}
	c.mech = t.Mechanism
	if t.Mechanism == MechPlain {
		if err := c.saslSend("auth", []byte("\x00"+user+"\x00"+pass)); err != nil {
			return err
		}
		_, err := c.saslExpect("success")
		return err
	}
	h := sha256.New
	if t.Mechanism == MechSCRAMSHA1 {
		h = sha1.New
	}
	return c.scram(t, h, user, pass)
}

// saslSend writes a SASL element (auth carries the mechanism) with a
// base64 payload; an empty payload is "=" (RFC 6120 §6.4.2).
func (c *Client) saslSend(local string, payload []byte) error {
	e := xml.New(nsSASL, local)
	if local == "auth" {
		// Only called with the mechanism chosen by authenticate.
		e.SetAttr("mechanism", c.mech)
	}
	if len(payload) == 0 {
		e.AppendText("=")
	} else {
		e.AppendText(base64.StdEncoding.EncodeToString(payload))
	}
	return c.Send(e)
}

// saslExpect reads the next element, which must be want (challenge or
// success); a failure is returned as an error naming its condition.
func (c *Client) saslExpect(want string) ([]byte, error) {
	el, err := c.rd.Next()
	if err != nil {
		return nil, err
	}
	if el.Is(nsSASL, "failure") {
		cond := "failure"
		if f := el.FirstElement(); f != nil {
			cond = f.Local
		}
		return nil, fmt.Errorf("authentication failed: %s", cond)
	}
	if !el.Is(nsSASL, want) {
		return nil, fmt.Errorf("SASL: expected %s, got %s", want, el)
	}
	txt := strings.TrimSpace(el.Text())
	if txt == "" || txt == "=" {
		return nil, nil
	}
	return base64.StdEncoding.DecodeString(txt)
}

// saltKey identifies a salted password in Target's cache.
type saltKey struct {
	mech, pass, salt string
	iter             int
}

// scramClient computes one SCRAM exchange (RFC 5802 §3, §5).
type scramClient struct {
	h         func() hash.Hash
	user      string
	pass      string
	cnonce    string
	firstBare string
	authMsg   string
	salted    []byte
	// salt derives (or recalls) the salted password.
	salt func(salt []byte, iter int) ([]byte, error)
}

// first returns the client-first-message (no channel binding: "n,,").
func (s *scramClient) first() string {
	name := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s.user)
	s.firstBare = "n=" + name + ",r=" + s.cnonce
	return "n,," + s.firstBare
}

// final answers the server-first-message with the client-final-message.
func (s *scramClient) final(serverFirst string) (string, error) {
	attrs := map[byte]string{}
	for kv := range strings.SplitSeq(serverFirst, ",") {
		if len(kv) >= 2 && kv[1] == '=' {
			attrs[kv[0]] = kv[2:]
		}
	}
	if _, ok := attrs['m']; ok {
		return "", errors.New("SCRAM: server requires an unsupported extension")
	}
	nonce := attrs['r']
	salt, serr := base64.StdEncoding.DecodeString(attrs['s'])
	iter, ierr := strconv.Atoi(attrs['i'])
	if !strings.HasPrefix(nonce, s.cnonce) || len(nonce) == len(s.cnonce) || serr != nil || len(salt) == 0 || ierr != nil || iter <= 0 {
		return "", fmt.Errorf("SCRAM: bad server-first-message %q", serverFirst)
	}
	var err error
	if s.salted, err = s.salt(salt, iter); err != nil {
		return "", err
	}
	clientKey := s.mac(s.salted, "Client Key")
	hh := s.h()
	hh.Write(clientKey)
	storedKey := hh.Sum(nil)
	finalBare := "c=biws,r=" + nonce // biws = base64("n,,")
	s.authMsg = s.firstBare + "," + serverFirst + "," + finalBare
	proof := s.mac(storedKey, s.authMsg)
	subtle.XORBytes(proof, proof, clientKey)
	return finalBare + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
}

// verify checks the server-final-message's signature.
func (s *scramClient) verify(serverFinal string) error {
	want := "v=" + base64.StdEncoding.EncodeToString(s.mac(s.mac(s.salted, "Server Key"), s.authMsg))
	if !hmac.Equal([]byte(strings.TrimSpace(serverFinal)), []byte(want)) {
		return fmt.Errorf("SCRAM: server signature mismatch (%q)", serverFinal)
	}
	return nil
}

func (s *scramClient) mac(k []byte, msg string) []byte {
	m := hmac.New(s.h, k)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func (c *Client) scram(t *Target, h func() hash.Hash, user, pass string) error {
	var nb [18]byte
	rand.Read(nb[:])
	sc := &scramClient{h: h, user: user, pass: pass, cnonce: base64.RawStdEncoding.EncodeToString(nb[:])}
	sc.salt = func(salt []byte, iter int) ([]byte, error) {
		key := saltKey{c.mech, pass, string(salt), iter}
		if v, ok := t.salted.Load(key); ok {
			return v.([]byte), nil
		}
		b, err := pbkdf2.Key(h, pass, salt, iter, h().Size())
		if err == nil {
			t.salted.Store(key, b)
		}
		return b, err
	}
	if err := c.saslSend("auth", []byte(sc.first())); err != nil {
		return err
	}
	sf, err := c.saslExpect("challenge")
	if err != nil {
		return err
	}
	cf, err := sc.final(string(sf))
	if err != nil {
		return err
	}
	if err := c.saslSend("response", []byte(cf)); err != nil {
		return err
	}
	// The server's signature comes with <success/> or, from some servers,
	// in a last challenge answered with an empty response.
	el, err := c.rd.Next()
	if err != nil {
		return err
	}
	var final []byte
	switch {
	case el.Is(nsSASL, "challenge"):
		final, _ = base64.StdEncoding.DecodeString(el.Text())
		if err := c.saslSend("response", nil); err != nil {
			return err
		}
		if _, err := c.saslExpect("success"); err != nil {
			return err
		}
	case el.Is(nsSASL, "success"):
		final, _ = base64.StdEncoding.DecodeString(strings.TrimSpace(el.Text()))
	case el.Is(nsSASL, "failure"):
		cond := "failure"
		if f := el.FirstElement(); f != nil {
			cond = f.Local
		}
		return fmt.Errorf("authentication failed: %s", cond)
	default:
		return fmt.Errorf("SASL: unexpected %s", el)
	}
	return sc.verify(string(final))
}
