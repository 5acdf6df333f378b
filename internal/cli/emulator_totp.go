package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/spf13/cobra"

	"github.com/exoctl/exoctl/emulator/emuinfo"
)

// EmulatorTOTPOptions are `exoctl emulator totp`'s arguments.
type EmulatorTOTPOptions struct {
	DataDir string
	UPN     string
	Now     func() time.Time
}

func newEmulatorTOTPCmd(f *Factory) *cobra.Command {
	o := &EmulatorTOTPOptions{Now: time.Now}
	cmd := &cobra.Command{
		Use:   "totp UPN",
		Short: "Print the current MFA code of a seeded emulator user",
		Long: `Print the current six-digit authenticator code of a seeded emulator user who must pass MFA
(their TOTP secret is in emulator.json as totp_secret and totp_uri), for the emulator's sign-in
page: exoctl connect --emulator --upn adele.vance@contoso.com, then type the code it prints.`,
		Example: "  exoctl emulator totp adele.vance@contoso.com",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.UPN = args[0]
			return runEmulatorTOTP(f, o)
		},
	}
	cmd.Flags().StringVar(&o.DataDir, "data", "", "the emulator's data folder (default $EXOCTL_HOME/emulator)")
	return cmd
}

func runEmulatorTOTP(f *Factory, o *EmulatorTOTPOptions) error {
	dir := strings.TrimSpace(o.DataDir)
	if dir == "" {
		home, err := f.Home()
		if err != nil {
			return err
		}
		dir = filepath.Join(home, "emulator")
	}
	info, err := emuinfo.Read(dir)
	if err != nil {
		return err
	}
	var mfa []string
	for _, t := range info.Tenants {
		for _, u := range t.Users {
			if u.TOTPSecret != "" {
				mfa = append(mfa, u.UPN)
			}
			if !strings.EqualFold(u.UPN, strings.TrimSpace(o.UPN)) {
				continue
			}
			if u.TOTPSecret == "" {
				return fmt.Errorf("%s does not use MFA in the emulator: sign in with the password alone", u.UPN)
			}
			code, err := totp.GenerateCode(u.TOTPSecret, o.Now())
			if err != nil {
				return fmt.Errorf("the TOTP secret of %s in %s is not valid base32: %w", u.UPN, emuinfo.FileName, err)
			}
			fmt.Fprintln(f.IO.Out, code)
			return nil
		}
	}
	if len(mfa) == 0 {
		return fmt.Errorf("%s lists no user %s and no user with MFA: start the emulator once to write it", filepath.Join(dir, emuinfo.FileName), o.UPN)
	}
	return fmt.Errorf("%s lists no user %s; users with MFA: %s", filepath.Join(dir, emuinfo.FileName), o.UPN, strings.Join(mfa, ", "))
}
