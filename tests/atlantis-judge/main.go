// atlantis-judge: parse an atlantis.yaml with Atlantis's own repo-config parser and
// validator (github.com/runatlantis/atlantis/server/core/config), as an Atlantis server
// would for a pull request against BRANCH, and print the projects it understood as JSON.
//
//	atlantis-judge FILE [BRANCH]
//
// The server-side config it validates against allows what a tfgen atlantis.yaml needs
// and a server must grant (custom workflows, apply_requirements and workflow overrides).
// Exit 0 and JSON on stdout when valid; exit 1 and the parser's message otherwise.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/runatlantis/atlantis/server/core/config"
	"github.com/runatlantis/atlantis/server/core/config/valid"
)

const serverSide = `{"repos": [{"id": "/.*/", "allow_custom_workflows": true,
  "allowed_overrides": ["apply_requirements", "plan_requirements", "workflow", "delete_source_branch_on_merge"]}]}`

type project struct {
	Name              string   `json:"name"`
	Dir               string   `json:"dir"`
	Workflow          string   `json:"workflow"`
	WhenModified      []string `json:"when_modified"`
	AutoplanEnabled   bool     `json:"autoplan_enabled"`
	ApplyRequirements []string `json:"apply_requirements"`
	DependsOn         []string `json:"depends_on"`
	ExecutionOrder    int      `json:"execution_order_group"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: atlantis-judge FILE [BRANCH]")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	branch := "main"
	if len(os.Args) > 2 {
		branch = os.Args[2]
	}
	parser := &config.ParserValidator{}
	defaults := valid.NewGlobalCfgFromArgs(valid.GlobalCfgArgs{})
	global, err := parser.ParseGlobalCfgJSON(serverSide, defaults)
	if err != nil {
		fmt.Fprintln(os.Stderr, "server-side config:", err)
		os.Exit(2)
	}
	repo, err := parser.ParseRepoCfgData(data, global, "github.com/example/infra", branch)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %s\n", os.Args[1], err)
		os.Exit(1)
	}
	out := struct {
		Version   int       `json:"version"`
		Workflows []string  `json:"workflows"`
		Projects  []project `json:"projects"`
	}{Version: repo.Version, Workflows: []string{}, Projects: []project{}}
	for name := range repo.Workflows {
		out.Workflows = append(out.Workflows, name)
	}
	for _, p := range repo.Projects {
		workflow := ""
		if p.WorkflowName != nil {
			workflow = *p.WorkflowName
		}
		out.Projects = append(out.Projects, project{
			Name: p.GetName(), Dir: p.Dir, Workflow: workflow, WhenModified: p.Autoplan.WhenModified,
			AutoplanEnabled: p.Autoplan.Enabled, ApplyRequirements: p.ApplyRequirements,
			DependsOn: p.DependsOn, ExecutionOrder: p.ExecutionOrderGroup,
		})
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
