package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// modConfig stands for a module's Config struct.
type modConfig struct {
	Enabled  bool          `toml:"enabled"`
	Default  string        `toml:"default"`
	MaxAge   time.Duration `toml:"max_age"`
	Limits   modLimits     `toml:"limits"`
	Exempt   []string      `toml:"exempt"`
	Untagged int
	Ignored  string `toml:"-"`
}

type modLimits struct {
	PageSize int           `toml:"page_size"`
	Timeout  time.Duration `toml:"timeout"`
}

func modDefaults() modConfig {
	return modConfig{Enabled: true, Default: "roster", MaxAge: time.Hour, Limits: modLimits{PageSize: 50, Timeout: time.Second}}
}

func TestDecodeSection(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    modConfig
		wantErr string // "FILE" stands for the path
	}{{
		name: "absent section keeps defaults",
		src:  "[other]\nx = 1\n",
		want: modDefaults(),
	}, {
		name: "partial section overrides only what it sets",
		src:  "[mam]\ndefault = \"always\"\n",
		want: func() modConfig { m := modDefaults(); m.Default = "always"; return m }(),
	}, {
		name: "everything, durations as strings and seconds",
		src: `
[mam]
enabled = false
default = "never"
max_age = 86400
exempt = ["a@example.org"]
untagged = 7
[mam.limits]
page_size = 10
timeout = "250ms"
`,
		want: modConfig{Default: "never", MaxAge: 24 * time.Hour, Exempt: []string{"a@example.org"}, Untagged: 7,
			Limits: modLimits{PageSize: 10, Timeout: 250 * time.Millisecond}},
	}, {
		name: "dotted keys and nested integer duration",
		src:  "mam.limits.timeout = 3\n",
		want: func() modConfig { m := modDefaults(); m.Limits.Timeout = 3 * time.Second; return m }(),
	}, {
		name:    "unknown key with line",
		src:     "[mam]\ndefault = \"always\"\n\ndefualt_policy = 1\n",
		wantErr: `FILE:4: unknown key "defualt_policy" in [mam]`,
	}, {
		name:    "unknown nested key with line",
		src:     "[mam]\n[mam.limits]\npage_size = 1\npagesize = 2\n",
		wantErr: `FILE:4: unknown key "pagesize" in [mam.limits]`,
	}, {
		name:    "unknown subtable reported once",
		src:     "[mam]\nenabled = true\n[mam.extra]\na = 1\nb = 2\n",
		wantErr: `FILE:3: unknown key "extra" in [mam]`,
	}, {
		name:    "unknown implicit table via dotted key",
		src:     "[mam]\nfoo.bar = 1\n",
		wantErr: `FILE:2: unknown key "foo" in [mam]`,
	}, {
		name:    "ignored field is unknown",
		src:     "[mam]\nIgnored = \"x\"\n",
		wantErr: `FILE:2: unknown key "Ignored" in [mam]`,
	}, {
		name:    "bad type",
		src:     "[mam]\n\nenabled = 1\n",
		wantErr: `FILE:3: mam.enabled: incompatible types: TOML value has type int64; destination has type boolean`,
	}, {
		name:    "bad duration",
		src:     "[mam]\nmax_age = \"a week\"\n",
		wantErr: `FILE:2: mam.max_age: invalid duration: "a week"`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConfig(t, tt.src)
			c, err := Load(p)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got := modDefaults()
			err = c.DecodeSection("mam", &got)
			if tt.wantErr != "" {
				w := strings.ReplaceAll(tt.wantErr, "FILE", p)
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("DecodeSection = %v, want error containing\n%s", err, w)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeSection: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeSectionCoreName(t *testing.T) {
	var v struct{}
	if err := Default().DecodeSection("c2s", &v); err == nil {
		t.Fatal("DecodeSection(c2s) succeeded, want an error")
	}
}

func TestDecodeSectionWithoutFile(t *testing.T) {
	c := Default()
	got := modDefaults()
	if err := c.DecodeSection("mam", &got); err != nil || !reflect.DeepEqual(got, modDefaults()) {
		t.Fatalf("DecodeSection on Default() = %v, %+v", err, got)
	}
	if err := c.CheckAllSectionsClaimed(nil); err != nil {
		t.Fatalf("CheckAllSectionsClaimed on Default() = %v", err)
	}
}

func TestCheckAllSectionsClaimed(t *testing.T) {
	src := "[mam]\nenabled = true\n\n[offline]\nlimit = 1\n\n[mamm]\nx = 1\n\n[vesion.x]\ny = 2\n"
	tests := []struct {
		name    string
		decode  []string // sections passed to DecodeSection first
		known   []string
		wantErr []string
	}{
		{"all known", nil, []string{"mam", "offline", "mamm", "vesion", "sm"}, nil},
		{"decoded count as claimed", []string{"mam", "mamm"}, []string{"offline", "vesion"}, nil},
		{"unclaimed in file order", []string{"mam"}, []string{"offline", "version"}, []string{
			`FILE:7: unknown section [mamm]: no module of this server uses it (sections: c2s, mam, offline, storage, tls, version)` + "\n" +
				`FILE:10: unknown section [vesion]`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConfig(t, src)
			c, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range tt.decode {
				var v map[string]any
				if err := c.DecodeSection(name, &v); err != nil {
					t.Fatal(err)
				}
			}
			err = c.CheckAllSectionsClaimed(tt.known)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("CheckAllSectionsClaimed = %v", err)
				}
				return
			}
			for _, w := range tt.wantErr {
				w = strings.ReplaceAll(w, "FILE", p)
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("CheckAllSectionsClaimed = %v\nwant error containing\n%s", err, w)
				}
			}
		})
	}
}
