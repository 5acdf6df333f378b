package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// MSAL Node (the version package-lock.json pins), unchanged.
func TestMSALNode(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node")
	}
	if _, err := os.Stat(filepath.Join("node", "node_modules", "@azure", "msal-node", "package.json")); err != nil {
		missing(t, "@azure/msal-node (npm ci in conformance/node)")
	}
	e := start(t)
	runSteps(t, e, config(t, e, freePort(t)), node, filepath.Join("node", "msal_node_steps.mjs"))
}
