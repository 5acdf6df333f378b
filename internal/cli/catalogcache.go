package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/exoctl/exoctl/connection"
	"github.com/exoctl/exoctl/exo"
	"github.com/exoctl/exoctl/psparam"
)

// catalogFile keeps, in a connection's folder, the module file connect read (the service's
// EXOModuleFile answer): later runs know the cmdlets' switches without asking again. It goes
// with the connection's folder at disconnect.
const catalogFile = "modulefile.json"

// catalogMaxAge is how long a kept module file is used; the module reads a fresh one at every
// connect, and so does exoctl connect.
const catalogMaxAge = 7 * 24 * time.Hour

// saveCatalog writes the session's module file (already read, as connect loads it) to the
// connection's folder, 0600. A failure only costs the switch knowledge: it is not an error.
func saveCatalog(ctx context.Context, st *connection.Store, p *connection.Profile, s *exo.Session) {
	c, err := s.Catalog(ctx)
	if err != nil {
		return
	}
	path := filepath.Join(st.Dir(p.ConnectionID), catalogFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, c.Bytes(), 0o600); err != nil {
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
	}
}

// savedCatalog reads the module file connect kept for the connection, or nil.
func savedCatalog(st *connection.Store, p *connection.Profile) *exo.Catalog {
	path := filepath.Join(st.Dir(p.ConnectionID), catalogFile)
	fi, err := os.Stat(path)
	if err != nil || time.Since(fi.ModTime()) > catalogMaxAge {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	c, err := exo.ParseCatalog(b)
	if err != nil {
		return nil
	}
	return c
}

// reparseWithSwitches reads argv again knowing the connection's switches (from the kept
// module file), so that -Archive alice is -Archive plus the unnamed alice, as in PowerShell.
// Without a kept module file the first parse stands.
// cmdlet is the cmdlet's name without the connection's prefix.
func reparseWithSwitches(st *connection.Store, p *connection.Profile, cmdlet string, args []string, c *psparam.Command) *psparam.Command {
	if !mayTakeValue(args) {
		return c // no parameter took the next word: knowing the switches changes nothing
	}
	cat := savedCatalog(st, p) // parsing the module file is a third of a cold run's CPU
	if cat == nil {
		return c
	}
	again, err := psparam.ParseArgs(args, psparam.Switches(func(_, param string) bool { return cat.IsSwitch(cmdlet, param) }))
	if err != nil {
		return c
	}
	return again
}

// mayTakeValue reports whether some -Name in args is followed by a word that is not itself a
// -Name: the only place where a switch reads differently from a parameter with a value.
func mayTakeValue(args []string) bool {
	for i := 0; i+1 < len(args); i++ {
		if isParamName(args[i]) && !isParamName(args[i+1]) {
			return true
		}
	}
	return false
}

// isParamName reports whether a word is -Name without an attached :value.
func isParamName(w string) bool {
	if len(w) < 2 || w[0] != '-' {
		return false
	}
	for i := 1; i < len(w); i++ {
		c := w[i]
		if c == ':' {
			return false
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= '0' && c <= '9' && i > 1) {
			return false
		}
	}
	return true
}
