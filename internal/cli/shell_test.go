package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/exo"
)

func TestShellScript(t *testing.T) {
	c := connected(t)
	script := `# a weekly script
Get-AcceptedDomain
New-Mailbox -Shared -Name "Zz Shell" -Alias zzshell   # a comment after a cmdlet
Set-Mailbox zzshell -EmailAddresses @{
    Add = "smtp:zzshell2@contoso.com"   # inside the hashtable
}
Get-Mailbox zzshell2@contoso.com -ResultSize 1
Get-Nonsense -Identity x
Get-Mailbox zzshell ` + "`" + `
    -ResultSize 1
Remove-Mailbox zzshell -Confirm:$false
exit
Get-OrganizationConfig
`
	out, errOut, code := c.run(script, "shell")
	if code != 1 {
		t.Errorf("exit code %d, want 1 (a line failed)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "contoso.onmicrosoft.com Authoritative") {
		t.Errorf("Get-AcceptedDomain did not print its view:\n%s", out)
	}
	if strings.Contains(errOut, "line 10") || strings.Contains(errOut, "line 9") {
		t.Errorf("the backtick continuation failed:\n%s", errOut)
	}
	// One object prints as the type's table with one row, as in PowerShell.
	if n := len(regexp.MustCompile(`(?m)^Zz Shell\s+zzshell\s`).FindAllString(out, -1)); n != 3 {
		t.Errorf("the mailbox (created, then found by the address added on a continued line) is not shown:\n%s", out)
	}
	if !strings.Contains(errOut, "line 8:") {
		t.Errorf("the pipeline line's error names no line:\n%s", errOut)
	}
	if !strings.Contains(errOut, "Get-Nonsense") {
		t.Errorf("the unknown cmdlet's error is not printed:\n%s", errOut)
	}
	if strings.Contains(out, "PS exoctl>") || strings.Contains(out, "EXO ") {
		t.Errorf("a prompt was printed to a script:\n%s", out)
	}
	if strings.Contains(out, "DisplayName") && strings.Contains(out, "Get-OrganizationConfig") {
		t.Errorf("a line after exit ran:\n%s", out)
	}
	if c.mailbox("zzshell") != nil {
		t.Error("Remove-Mailbox -Confirm:$false did not run")
	}

	// The module file says -Archive is a switch: the value after it is the unnamed Identity
	// (the emulator then answers for -Archive itself: mailboxes' archives, or that it does not
	// emulate the switch yet), not "admin" given to -Archive.
	archOut, archErr, _ := c.run("Get-Mailbox -Archive admin\n", "shell")
	if !strings.Contains(archOut, "admin") && !strings.Contains(archErr, "parameter 'Archive' of Get-Mailbox is a real Exchange Online parameter, but the exoctl emulator does not emulate it") {
		t.Errorf("switch then value:\nstdout:\n%s\nstderr:\n%s", archOut, archErr)
	}

	// A script that ends inside a command fails; an all-good script exits 0.
	if _, errOut, code := c.run("Get-AcceptedDomain\nSet-Mailbox x -EmailAddresses @{\n", "shell"); code != 1 || !strings.Contains(errOut, "line 2") {
		t.Errorf("unfinished script: exit %d, stderr %s", code, errOut)
	}
	if out, errOut, code := c.run("get-command get-acc*\nGet-ConnectionInformation\n", "shell"); code != 0 ||
		out == "" || !strings.Contains(out, "Get-AcceptedDomain\n") || !strings.Contains(out, "ExchangeOnline_1") {
		t.Errorf("built-ins: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// testModuleFile is an EXOModuleFile answer with a small generated module.
const testModuleFile = `{"value":[{"exportedCmdlets":"Get-AcceptedDomain,Get-Mailbox,Get-MailboxStatistics,Set-Mailbox",` +
	`"fileName":"ExchangeOnline.psm1","fileContent":` +
	`"function script:Get-Mailbox\n{\n    [CmdletBinding()]\n    param(\n    [Parameter(Position=0)]\n    [System.Object]\n    ${Identity},\n\n    [switch]\n    ${Archive},\n\n    [System.Object]\n    ${RecipientTypeDetails},\n\n    [System.Object]\n    ${ResultSize}\n    )\n}\n` +
	`function script:Set-Mailbox\n{\n    [CmdletBinding()]\n    param(\n    [System.Object]\n    ${Identity},\n\n    [switch]\n    ${WhatIf},\n\n    [switch]\n    ${Confirm}\n    )\n}\n"}]}`

func TestShellComplete(t *testing.T) {
	cat, err := exo.ParseCatalog([]byte(testModuleFile))
	if err != nil {
		t.Fatal(err)
	}
	sh := &shell{catalog: cat.Cmdlets(), module: cat}
	if !sh.isSwitch("get-mailbox", "ARCHIVE") || sh.isSwitch("Get-Mailbox", "ResultSize") {
		t.Error("switches are not the module file's")
	}
	tab := func(line string) string {
		t.Helper()
		got, pos, ok := sh.complete(line, len(line), '\t')
		if !ok {
			return line
		}
		if pos > len(got) {
			t.Fatalf("%q: cursor %d beyond %q", line, pos, got)
		}
		return got
	}
	for in, want := range map[string]string{
		"get-acc":                       "Get-AcceptedDomain ",
		"  SET-m":                       "  Set-Mailbox ",
		"get-mail":                      "Get-Mailbox", // Get-Mailbox and Get-MailboxStatistics share it
		"get-con":                       "Get-ConnectionInformation ",
		"Get-Mailbox -Res":              "Get-Mailbox -ResultSize ",
		"get-mailbox alice -recipientt": "get-mailbox alice -RecipientTypeDetails ",
		"get-mailbox -erroract":         "get-mailbox -ErrorAction ",
		"Get-EXOMailbox -PropertyS":     "Get-EXOMailbox -PropertySets ",
		"Set-Mailbox alice -What":       "Set-Mailbox alice -WhatIf ",
		"Get-Nothing -Res":              "Get-Nothing -Res",
		"Get-Mailbox alic":              "Get-Mailbox alic",
		"":                              "",
	} {
		if got := tab(in); got != want {
			t.Errorf("Tab on %q: %q, want %q", in, got, want)
		}
	}
	// Completion in the middle of a line keeps what follows the cursor.
	line := "get-acc | x"
	got, pos, ok := sh.complete(line, len("get-acc"), '\t')
	if !ok || got != "Get-AcceptedDomain  | x" || pos != len("Get-AcceptedDomain ") {
		t.Errorf("mid-line Tab: %q %d %v", got, pos, ok)
	}
	if _, _, ok := sh.complete("get-acc", 7, 'a'); ok {
		t.Error("a key other than Tab completed")
	}
}
