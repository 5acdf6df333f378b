package cli

import (
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"
)

// emulator totp prints the code the sign-in page accepts for a seeded MFA user, and says which
// users have MFA when asked about another.
func TestEmulatorTOTP(t *testing.T) {
	e, dir := startEmulator(t)
	var secret, upn string
	for _, u := range e.Info.Tenants[0].Users {
		if u.TOTPSecret != "" {
			secret, upn = u.TOTPSecret, u.UPN
			if !strings.HasPrefix(u.TOTPURI, "otpauth://totp/") || !strings.Contains(u.TOTPURI, "secret="+secret) || u.Description == "" {
				t.Errorf("emulator.json user %+v: want a description and an otpauth URI with the secret", u)
			}
		}
	}
	if secret == "" {
		t.Fatal("emulator.json lists no MFA user with a TOTP secret")
	}
	c := newCLI(t)
	out := strings.TrimSpace(c.ok("emulator", "totp", "--data", dir, strings.ToUpper(upn)))
	// Validate allows one 30-second step either side, so a rollover between print and check passes.
	if len(out) != 6 || !totp.Validate(out, secret) {
		t.Errorf("printed %q, not a current code of %s", out, upn)
	}
	msg := c.fails("emulator", "totp", "--data", dir, "admin@contoso.onmicrosoft.com")
	if !strings.Contains(msg, "does not use MFA") {
		t.Errorf("non-MFA user: %q", msg)
	}
	msg = c.fails("emulator", "totp", "--data", dir, "nobody@contoso.com")
	if !strings.Contains(msg, upn) {
		t.Errorf("unknown user: %q should name the MFA users", msg)
	}
}
