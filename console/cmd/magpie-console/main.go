// Command magpie-console runs the Magpie console: the server that turns
// trigger calls into tasks, dispatches them to responders and keeps the
// evidence they upload.
package main

import (
	"fmt"
	"os"

	"github.com/magpie-ir/magpie/console/server"
)

func main() {
	if err := server.Main(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "magpie-console:", err)
		os.Exit(1)
	}
}
