// Command magpie-responder runs the Magpie responder, the agent that
// collects evidence on an endpoint when the console assigns it a task.
package main

import (
	"fmt"
	"os"

	"github.com/magpie-ir/magpie/responder/cli"
)

func main() {
	if err := cli.Main(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "magpie-responder:", err)
		os.Exit(1)
	}
}
