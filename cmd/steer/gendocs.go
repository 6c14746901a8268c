package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// genDocsCmd writes the man pages and shell completions that the Debian
// package and `make install` ship, from the commands themselves, so they
// never drift from the CLI. Hidden: operators read its output, not it.
func genDocsCmd() *cobra.Command {
	var manDir, complDir string
	cmd := &cobra.Command{
		Use:    "gen-docs --man DIR --completions DIR",
		Short:  "write man pages (section 1) and bash/zsh/fish completions",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root := cmd.Root()
			if manDir != "" {
				if err := os.MkdirAll(manDir, 0o755); err != nil {
					return err
				}
				hdr := &doc.GenManHeader{Title: "STEER", Section: "1", Source: "steer " + version, Manual: "steer manual"}
				root.DisableAutoGenTag = true
				if err := doc.GenManTree(root, hdr, manDir); err != nil {
					return fmt.Errorf("man pages: %w", err)
				}
			}
			if complDir != "" {
				if err := os.MkdirAll(complDir, 0o755); err != nil {
					return err
				}
				gens := map[string]func(string) error{
					"steer.bash": func(p string) error { return root.GenBashCompletionFileV2(p, true) },
					"_steer":     root.GenZshCompletionFile,
					"steer.fish": func(p string) error { return root.GenFishCompletionFile(p, true) },
				}
				for name, gen := range gens {
					if err := gen(filepath.Join(complDir, name)); err != nil {
						return fmt.Errorf("completion %s: %w", name, err)
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&manDir, "man", "", "directory for the man pages")
	cmd.Flags().StringVar(&complDir, "completions", "", "directory for steer.bash, _steer (zsh) and steer.fish")
	return cmd
}
