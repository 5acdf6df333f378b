package conformance

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// debianPython is Debian's interpreter, where python3-msal and python3-azure install (a
// python3 earlier on PATH, such as a pyenv shim, has neither).
const debianPython = "/usr/bin/python3"

func python(t *testing.T, module string) string {
	t.Helper()
	if _, err := exec.LookPath(debianPython); err != nil {
		missing(t, debianPython)
	}
	if err := exec.Command(debianPython, "-c", "import "+module).Run(); err != nil {
		missing(t, "the Python module "+module+" (Debian python3-msal / python3-azure)")
	}
	return debianPython
}

// MSAL Python 1.21, unchanged.
func TestMSALPython(t *testing.T) {
	t.Parallel()
	py := python(t, "msal")
	e := start(t)
	runSteps(t, e, config(t, e, freePort(t)), py, filepath.Join("python", "msal_steps.py"))
}

// azure-identity (azure.identity 1.13), unchanged.
func TestAzureIdentity(t *testing.T) {
	t.Parallel()
	py := python(t, "azure.identity")
	e := start(t)
	runSteps(t, e, config(t, e, freePort(t)), py, filepath.Join("python", "azure_identity_steps.py"))
}
