package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// DecodeSection decodes the module section [name] into v, a pointer to the
// module's Config struct already holding the module's defaults: keys absent
// from the file keep their default. A key v has no field for is an error
// naming it and its line. Without a [name] section v is left untouched.
//
// The section counts as claimed for CheckAllSectionsClaimed. Safe for
// concurrent use, though modules are normally configured one after the
// other at startup.
func (c *Config) DecodeSection(name string, v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.claimed == nil {
		c.claimed = map[string]bool{}
	}
	c.claimed[name] = true
	if slices.Contains(coreKeys, name) {
		return fmt.Errorf("config: [%s] is a core section, not a module section", name)
	}
	prim, ok := c.sections[name]
	if !ok {
		return nil
	}
	if err := c.md.PrimitiveDecode(prim, v); err != nil {
		return decodeError(c.Path, err)
	}
	if err := fixDurations(&c.md, toml.Key{name}, v); err != nil {
		return fmt.Errorf("%s: %w", c.Path, err)
	}
	if errs := c.undecodedUnder(name); len(errs) > 0 {
		return errors.Join(c.sortByLine(errs)...)
	}
	return nil
}

// Sections lists the module sections present in the file, sorted.
func (c *Config) Sections() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.sections))
	for k := range c.sections {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// CheckAllSectionsClaimed reports every module section of the file that is
// neither in known nor was decoded with DecodeSection, so a misspelled or
// obsolete section name ("[mamm]") is not silently ignored.
func (c *Config) CheckAllSectionsClaimed(known []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for k := range c.sections {
		if !slices.Contains(known, k) && !c.claimed[k] {
			names = append(names, k)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return c.line(toml.Key{a}) - c.line(toml.Key{b}) })
	valid := append(slices.Clone(known), coreTables...)
	for k := range c.claimed {
		if !slices.Contains(valid, k) {
			valid = append(valid, k)
		}
	}
	sort.Strings(valid)
	var errs []error
	for _, n := range names {
		errs = append(errs, fmt.Errorf("%s:%d: unknown section [%s]: no module of this server uses it (sections: %s)",
			c.Path, c.line(toml.Key{n}), n, strings.Join(valid, ", ")))
	}
	return errors.Join(errs...)
}

// undecodedUnder returns an error for each key under the given top-level
// names that nothing decoded. Only the outermost unknown key is reported:
// an unknown table is one error, not one per key in it.
func (c *Config) undecodedUnder(tops ...string) []error {
	undecoded := map[string]bool{}
	for _, k := range c.md.Undecoded() {
		undecoded[k.String()] = true
	}
	var decoded []toml.Key
	for _, k := range c.md.Keys() {
		if !undecoded[k.String()] {
			decoded = append(decoded, k)
		}
	}
	// A prefix of an unknown key was matched by the decoder if it is a
	// decoded key itself or, for a table that exists only implicitly
	// ("a.b.c = 1" implies a.b), if some key inside it was decoded.
	matched := func(p toml.Key) bool {
		return slices.ContainsFunc(decoded, func(d toml.Key) bool { return hasPrefix(d, p) })
	}
	var unknown []toml.Key
	for _, k := range c.md.Undecoded() {
		if !slices.Contains(tops, k[0]) {
			continue
		}
		outer := k
		for i := 1; i < len(k); i++ {
			if !matched(k[:i]) {
				outer = k[:i]
				break
			}
		}
		if !slices.ContainsFunc(unknown, func(u toml.Key) bool { return hasPrefix(outer, u) }) {
			unknown = append(unknown, outer)
		}
	}
	var errs []error
	for _, k := range unknown {
		errs = append(errs, c.unknownKey(k))
	}
	return errs
}

func hasPrefix(k, prefix toml.Key) bool {
	return len(k) >= len(prefix) && slices.Equal(k[:len(prefix)], prefix)
}

func (c *Config) unknownKey(k toml.Key) error {
	where := "top level"
	if len(k) > 1 {
		where = "[" + k[:len(k)-1].String() + "]"
	}
	n := c.line(k)
	return &lineError{line: n, msg: fmt.Sprintf("%s:%d: unknown key %q in %s", c.Path, n, k[len(k)-1], where)}
}

// decodeError puts the file name in front of a BurntSushi/toml error and,
// for syntax errors, the line.
func decodeError(path string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.LastKey != "" {
			msg = fmt.Sprintf("%s: %s", pe.LastKey, msg)
		}
		return fmt.Errorf("%s:%d: %s", path, pe.Position.Line, msg)
	}
	// Type mismatches come as `toml: line N (last key "k"): ...`.
	if m := typeErrorRE.FindStringSubmatch(err.Error()); m != nil {
		return &lineError{line: atoi(m[1]), msg: fmt.Sprintf("%s:%s: %s: %s", path, m[1], m[2], m[3])}
	}
	return fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "toml: "))
}

var typeErrorRE = regexp.MustCompile(`^toml: line (\d+) \(last key "(.*?)"\): (.*)$`)

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// lineError is an error about one line of the file; sortByLine orders them.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return e.msg }

// sortByLine orders errors by the line they are about, so a list of
// problems reads top to bottom like the file.
func (c *Config) sortByLine(errs []error) []error {
	lineOf := func(err error) int {
		if le, ok := err.(*lineError); ok {
			return le.line
		}
		return 0
	}
	slices.SortStableFunc(errs, func(a, b error) int { return lineOf(a) - lineOf(b) })
	return errs
}

// line returns the line of key k in the file, 0 if unknown.
//
// BurntSushi/toml records every key's position but does not export it; it
// reports it only in the ParseError of a value that fails to decode. So we
// decode the file once more into a type built for k, whose only field sits at
// k's path and always fails, and read the position off that error. Tables
// that exist only implicitly (the "a" of "a.b = 1") have no position of
// their own; for them the first key inside is used.
func (c *Config) line(k toml.Key) int {
	if n := probeLine(c.src, &c.md, k); n > 0 {
		return n
	}
	for _, kk := range c.md.Keys() {
		if len(kk) > len(k) && hasPrefix(kk, k) {
			if n := probeLine(c.src, &c.md, kk); n > 0 {
				return n
			}
		}
	}
	return 0
}

// probeFailure is the leaf of a probe type; decoding anything into it fails.
type probeFailure struct{}

const probeMessage = "skald config line probe"

func (*probeFailure) UnmarshalTOML(any) error { return errors.New(probeMessage) }

func probeLine(src []byte, md *toml.MetaData, k toml.Key) int {
	typ := reflect.TypeFor[probeFailure]()
	for i := len(k) - 1; i >= 0; i-- {
		if strings.ContainsAny(k[i], `,"\`) {
			return 0 // cannot be expressed as a struct tag
		}
		typ = reflect.StructOf([]reflect.StructField{{
			Name: "F",
			Type: typ,
			Tag:  reflect.StructTag(`toml:` + strconv.Quote(k[i])),
		}})
		if i > 0 {
			if t := md.Type(k[:i]...); t == "ArrayHash" || t == "Array" {
				typ = reflect.SliceOf(typ)
			}
		}
	}
	_, err := toml.Decode(string(src), reflect.New(typ).Interface())
	var pe toml.ParseError
	if errors.As(err, &pe) && pe.Message == probeMessage {
		return pe.Position.Line
	}
	return 0
}

var durationType = reflect.TypeFor[time.Duration]()

// fixDurations turns integer durations, which BurntSushi/toml stores as
// nanoseconds, into seconds: "idle_timeout = 300" means five minutes. It
// walks v (a pointer to what was just decoded for key) by the same names
// the decoder matched and rescales each time.Duration whose TOML value was
// an integer.
func fixDurations(md *toml.MetaData, key toml.Key, v any) error {
	return fixValue(md, key, reflect.ValueOf(v))
}

func fixValue(md *toml.MetaData, key toml.Key, rv reflect.Value) error {
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if rv.Type() == durationType {
		if md.Type(key...) != "Integer" {
			return nil
		}
		n := rv.Int()
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return fmt.Errorf("%s: %d seconds is out of range", key, n)
		}
		rv.SetInt(n * int64(time.Second))
		return nil
	}
	if rv.Kind() != reflect.Struct {
		return nil
	}
	t := rv.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			// Embedded structs without a name are flattened by the decoder.
			if err := fixValue(md, key, rv.Field(i)); err != nil {
				return err
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		sub, ok := childKey(md, key, name)
		if !ok {
			continue
		}
		if err := fixValue(md, sub, rv.Field(i)); err != nil {
			return err
		}
	}
	return nil
}

// childKey finds the key under parent that the decoder matched with a field
// called name: the exact name, else (as the decoder does) one equal under
// case folding.
func childKey(md *toml.MetaData, parent toml.Key, name string) (toml.Key, bool) {
	sub := append(slices.Clone(parent), name)
	if md.IsDefined(sub...) {
		return sub, true
	}
	for _, k := range md.Keys() {
		if len(k) == len(parent)+1 && hasPrefix(k, parent) && strings.EqualFold(k[len(parent)], name) {
			return k, true
		}
	}
	return nil, false
}
