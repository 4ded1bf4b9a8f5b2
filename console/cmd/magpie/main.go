// Command magpie is the analyst's client of the Magpie console: it issues
// enrollment tokens, manages triggers, follows tasks and downloads and
// verifies evidence packages. Run "magpie help" for its commands.
package main

import (
	"os"

	"github.com/magpie-ir/magpie/console/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
