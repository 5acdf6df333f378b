package store

import (
	"fmt"
	"strings"
	"testing"
)

// TestSeededHashes: every seeded user's password has its kept hash, which verifies it, and
// every kept hash belongs to a seeded user.
func TestSeededHashes(t *testing.T) {
	t.Parallel()
	f, err := loadPartnersFixture()
	if err != nil {
		t.Fatal(err)
	}
	seeded := map[string]bool{}
	for _, u := range demoUsers {
		seeded[u.password] = true
	}
	for _, u := range append(append([]fixtureUser(nil), f.Partner.Users...), customerUsers(f)...) {
		seeded[u.Password] = true
	}
	kept := map[string]string{}
	for _, h := range seededHashes {
		kept[h.password] = h.hash
	}
	var missing strings.Builder
	for p := range seeded {
		h, ok := kept[p]
		if !ok || !verifyPassword(h, p) {
			h, _ = hashPassword(p)
			fmt.Fprintf(&missing, "\t{%q, %q},\n", p, h)
		}
	}
	if missing.Len() > 0 {
		t.Errorf("seeded passwords without a kept hash that verifies them; put these in seededHashes:\n%s", missing.String())
	}
	for p := range kept {
		if !seeded[p] {
			t.Errorf("seededHashes keeps the hash of %q, which no seeded user has", p)
		}
	}
}
