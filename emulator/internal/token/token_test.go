package token

import "testing"

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
