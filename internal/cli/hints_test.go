package cli

import (
	"encoding/base64"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/exoctl/exoctl/emulator"
	"github.com/exoctl/exoctl/internal/bulk"
)

var (
	hintFlag = regexp.MustCompile(`(?:^|[\s(\x60'"])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)`)
	// A command is named after "run", "with", "try", "use" or a backtick ("run exoctl connect
	// again"); "exoctl does not ..." is prose.
	hintCommand = regexp.MustCompile("(?:\\brun |\\bwith |\\btry |\\buse |\\bin |`)exoctl ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")
	// prose are words that follow a command name in a sentence, not subcommands.
	prose = map[string]bool{"with": true, "again": true, "and": true, "or": true, "to": true, "in": true, "for": true, "first": true, "then": true}
)

// TestEveryHintNamesRealFlagsAndCommands reads every string literal of the client's code (and
// the emulator's, whose errors users read) and checks that each --flag and `exoctl <command>`
// it names exists in the command tree: a hint that names a flag that does not exist sends the
// user nowhere.
func TestEveryHintNamesRealFlagsAndCommands(t *testing.T) {
	root := NewRootCmd(&Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &strings.Builder{}, ErrOut: &strings.Builder{}}, Getenv: func(string) string { return "" }})
	flags := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags(), c.InheritedFlags()} {
			fs.VisitAll(func(f *pflag.Flag) { flags[f.Name] = true })
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	flags["help"], flags["version"] = true, true

	repo := filepath.Join("..", "..")
	checked := 0
	for _, dir := range []string{"cmd", "internal", "exo", "auth", "connection", "cloud", "psparam", "format", "emulator"} {
		err := filepath.WalkDir(filepath.Join(repo, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				text, err := strconv.Unquote(lit.Value)
				if err != nil {
					return true
				}
				short := strings.Join(strings.Fields(text), " ")
				for _, m := range hintFlag.FindAllStringSubmatch(text, -1) {
					checked++
					if !flags[m[1]] {
						t.Errorf("%s: %q names --%s, which no exoctl command has", path, short, m[1])
					}
				}
				for _, m := range hintCommand.FindAllStringSubmatch(text, -1) {
					checked++
					args := []string{m[1]}
					if m[2] != "" {
						args = append(args, m[2])
					}
					c, rest, err := root.Find(args)
					if err != nil || c == root {
						t.Errorf("%s: %q names exoctl %s, which is no command", path, short, m[1])
						continue
					}
					// "exoctl emulator start" must name a subcommand; "exoctl connect again" is prose.
					if len(rest) > 0 && c.HasSubCommands() && !prose[rest[0]] {
						t.Errorf("%s: %q names exoctl %s %s, which is no command", path, short, m[1], m[2])
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 50 {
		t.Fatalf("only %d flag and command names found: the scan is broken", checked)
	}
}

func TestTimeoutFlag(t *testing.T) {
	c := connected(t)
	_, errOut, code := c.run("", "run", "--timeout", "1ns", "Get-Mailbox", "-ResultSize", "Unlimited")
	if code != ExitError || !strings.Contains(errOut, "--timeout 1ns") {
		t.Errorf("run --timeout: exit %d: %s", code, errOut)
	}
	aliases := mailboxAliases(t, c, "1")
	path := writeCSV(t, [][]string{{"Alias"}, {aliases[0]}})
	out, errOut, code := c.run("", "bulk", "--csv", path, "--timeout", "1ns", "--", "Set-Mailbox -Identity {Alias} -CustomAttribute9 t")
	if res := parseBulkOut(t, out); code != ExitError || len(res) != 1 || res[0].Status != bulk.StatusUnknown || !strings.Contains(res[0].Error, "--timeout") {
		t.Errorf("bulk --timeout: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestSignInRefusedExitsFour(t *testing.T) {
	_, dir := startEmulator(t)
	info, err := emulator.ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	// A brought token the service refuses (not signed by its authority): it cannot be
	// refreshed, so the user must sign in again.
	claims, _ := json.Marshal(map[string]any{"tid": info.Tenants[0].ID, "exp": time.Now().Add(time.Hour).Unix()})
	tok := "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln"
	_, errOut, code := c.run(tok+"\n", "connect", "--access-token-stdin", "--organization", info.Tenants[0].Name,
		"--connection-uri", info.ConnectionURI, "--ca-file", info.CAFile)
	if code != ExitSignIn || !strings.Contains(errOut, "--access-token-stdin") {
		t.Errorf("refused token: exit %d: %s", code, errOut)
	}
	// Expired before it is used: the same.
	claims, _ = json.Marshal(map[string]any{"tid": info.Tenants[0].ID, "exp": time.Now().Add(-time.Minute).Unix()})
	tok = "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln"
	_, errOut, code = c.run(tok+"\n", "connect", "--access-token-stdin", "--organization", info.Tenants[0].Name,
		"--connection-uri", info.ConnectionURI, "--ca-file", info.CAFile)
	if code != ExitSignIn || !strings.Contains(errOut, "expired") || !strings.Contains(errOut, "--access-token-stdin") {
		t.Errorf("expired token: exit %d: %s", code, errOut)
	}
}

func TestReadmeListsExitCodes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Exit codes", "| 4 |", "| 5 |", "| 130 |", "docs/SECURITY.md"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("README lacks %q", want)
		}
	}
}

func TestClientFilesAttacked(t *testing.T) {
	c := connected(t)
	st := testConnections(t, c)
	ps, _ := st.List()
	cache := filepath.Join(st.Dir(ps[0].ConnectionID), "tokens.cache")
	// A directory where the token cache goes: the error says so (it once said "check the
	// network").
	if err := os.Remove(cache); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	if msg := c.fails("run", "Get-AcceptedDomain"); !strings.Contains(msg, "is a directory") || strings.Contains(msg, "network") {
		t.Errorf("a directory at tokens.cache: %s", msg)
	}
	os.Remove(cache)
	// A world-writable EXOCTL_HOME is made private, with a warning.
	if err := os.Chmod(c.home, 0o777); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := c.run("", "run", "Get-AcceptedDomain")
	fi, _ := os.Stat(c.home)
	if code != 0 || fi.Mode().Perm() != 0o700 || !strings.Contains(errOut, "WARNING: ") || !strings.Contains(errOut, "made it private") {
		t.Errorf("world-writable home: exit %d, mode %v: %s", code, fi.Mode().Perm(), errOut)
	}
}
