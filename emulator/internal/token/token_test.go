package token

import (
	"sync"
	"testing"
	"time"
)

// TestNewKey: throwaway emulators share a key per purpose; others never get it.
func TestNewKey(t *testing.T) {
	a, _ := NewKey(PurposeSigning, true)
	b, _ := NewKey(PurposeSigning, true)
	c, _ := NewKey(PurposeAppCert, true)
	d, err := NewKey(PurposeSigning, false)
	if err != nil || a != b || a.Equal(c) || a.Equal(d) {
		t.Errorf("shared keys: same purpose %v, other purpose differs %v, own key differs %v (%v)", a == b, !a.Equal(c), !a.Equal(d), err)
	}
}

// TestSignShared: requests of one second for the same claims share one token; other claims,
// or the next second, get their own; every token verifies.
func TestSignShared(t *testing.T) {
	k, err := NewKey(PurposeSigning, true)
	if err != nil {
		t.Fatal(err)
	}
	keys := NewKeys(k)
	now := time.Unix(1_800_000_000, 0)
	claims := func(aud string, at time.Time) Claims {
		return AppOnly("tid", "app", "oid", aud, []string{"Exchange.ManageAsApp"}, nil, at, time.Hour)
	}
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		wg.Go(func() {
			got[i], _ = keys.SignShared(claims("https://outlook.office365.com", now))
		})
	}
	wg.Wait()
	for _, tok := range got[1:] {
		if tok != got[0] || tok == "" {
			t.Fatalf("tokens of one second for the same claims differ")
		}
	}
	other, _ := keys.SignShared(claims("https://ps.compliance.protection.outlook.com", now))
	later, _ := keys.SignShared(claims("https://outlook.office365.com", now.Add(time.Second)))
	if other == got[0] || later == got[0] || other == later {
		t.Errorf("other claims or another second share a token")
	}
	for _, tok := range []string{got[0], other, later} {
		if _, err := keys.Verify(tok, now, "https://outlook.office365.com", "https://ps.compliance.protection.outlook.com"); err != nil {
			t.Errorf("a shared token does not verify: %v", err)
		}
	}
}

// TestOwnKeysAhead: the signing key begun beside an app key is a key of its own, used once.
func TestOwnKeysAhead(t *testing.T) {
	app, err := NewKey(PurposeAppCert, false)
	if err != nil {
		t.Fatal(err)
	}
	s1, err1 := NewKey(PurposeSigning, false)
	s2, err2 := NewKey(PurposeSigning, false)
	shared, _ := NewKey(PurposeSigning, true)
	if err1 != nil || err2 != nil || s1.Equal(s2) || s1.Equal(app) || s1.Equal(shared) || s2.Equal(shared) {
		t.Errorf("own keys repeat: %v %v", err1, err2)
	}
}
