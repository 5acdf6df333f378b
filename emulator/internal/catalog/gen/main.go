// Command gen writes catalog.txt.gz, the embedded cmdlet catalog, from the source catalog
// exchange-cmdlets.json (see ../shared/catalog/README.md). Run it from the repository root when
// the source changes:
//
//	go run ./emulator/internal/catalog/gen [-src path] [-out path]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/exoctl/exoctl/emulator/internal/catalog"
)

func main() {
	src := flag.String("src", "", "the source catalog (default: $EXOCTL_CATALOG_SOURCE, ../shared/catalog/exchange-cmdlets.json, /work/shared/catalog/exchange-cmdlets.json)")
	out := flag.String("out", "emulator/internal/catalog/catalog.txt.gz", "where to write the embedded catalog")
	flag.Parse()
	if *src == "" {
		*src = catalog.SourcePath(".")
	}
	if *src == "" {
		fmt.Fprintln(os.Stderr, "gen: no source catalog found; pass -src or set EXOCTL_CATALOG_SOURCE")
		os.Exit(2)
	}
	if err := run(*src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(src, out string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	gen, err := catalog.Generate(b)
	if err != nil {
		return err
	}
	gz, err := catalog.Compress(gen)
	if err != nil {
		return err
	}
	return os.WriteFile(out, gz, 0o644)
}
