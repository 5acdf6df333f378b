package catalog

import (
	"os"
	"path/filepath"
)

// SourcePath finds the source catalog exchange-cmdlets.json: $EXOCTL_CATALOG_SOURCE, else
// ../shared/catalog/ beside the repository whose root is root (or an ancestor of it), else
// /work/shared/catalog/. It returns "" when there is none.
func SourcePath(root string) string {
	if p := os.Getenv("EXOCTL_CATALOG_SOURCE"); p != "" {
		return p
	}
	var candidates []string
	if abs, err := filepath.Abs(root); err == nil {
		for dir := abs; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				candidates = append(candidates, filepath.Join(dir, "..", "shared", "catalog", "exchange-cmdlets.json"))
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	candidates = append(candidates, "/work/shared/catalog/exchange-cmdlets.json")
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
