package emulator

import (
	"crypto/rand"
	"encoding/base32"
)

// randomPassword makes a password for the seeded PFX file.
func randomPassword() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}
