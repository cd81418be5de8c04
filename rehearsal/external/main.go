// Command terraform-provider-external is tfgen's stand-in for hashicorp/external in a
// real-provider rehearsal (`tfgen rehearse --provider real`): no mirror on a machine
// without a registry holds it (the Go module proxy refuses terraform-provider-external),
// and terraform-aws-modules/lambda computes its package with `data "external"`.
//
// The `external` data source has the real provider's semantics: `program` runs in
// `working_dir` with the JSON object of `query` on its standard input; it must exit 0
// and print one JSON object whose values are all strings, which becomes `result`.
// A non-zero exit fails with the program's standard error, as the real one does.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os/exec"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Version is the stand-in's own version; tfgen installs it under the version the
// configuration's constraint accepts.
var Version = "0.1.0-rehearsal"

type standIn struct{}

func (p *standIn) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "external"
	resp.Version = Version
}

func (p *standIn) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{Description: "tfgen rehearsal stand-in for hashicorp/external"}
}

func (p *standIn) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *standIn) Resources(context.Context) []func() resource.Resource { return nil }

func (p *standIn) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{func() datasource.DataSource { return &external{} }}
}

type external struct{}

type externalModel struct {
	Program    types.List   `tfsdk:"program"`
	WorkingDir types.String `tfsdk:"working_dir"`
	Query      types.Map    `tfsdk:"query"`
	Result     types.Map    `tfsdk:"result"`
	ID         types.String `tfsdk:"id"`
}

func (d *external) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName // the data source is named after the provider: "external"
}

func (d *external) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"program":     schema.ListAttribute{ElementType: types.StringType, Required: true},
		"working_dir": schema.StringAttribute{Optional: true},
		"query":       schema.MapAttribute{ElementType: types.StringType, Optional: true},
		"result":      schema.MapAttribute{ElementType: types.StringType, Computed: true},
		"id":          schema.StringAttribute{Computed: true},
	}}
}

func (d *external) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m externalModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var program []types.String
	resp.Diagnostics.Append(m.Program.ElementsAs(ctx, &program, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	args := make([]string, 0, len(program))
	for i, arg := range program {
		if arg.IsNull() || arg.ValueString() == "" {
			resp.Diagnostics.AddAttributeError(path.Root("program").AtListIndex(i), "Invalid program",
				"The data source received an empty or null program element.")
			return
		}
		args = append(args, arg.ValueString())
	}
	if len(args) == 0 {
		resp.Diagnostics.AddAttributeError(path.Root("program"), "External Program Missing",
			"The data source was configured without a program to execute. Verify the configuration contains at least one non-empty value.")
		return
	}
	query := map[string]*string{}
	if !m.Query.IsNull() {
		var values map[string]types.String
		resp.Diagnostics.Append(m.Query.ElementsAs(ctx, &values, false)...)
		if resp.Diagnostics.HasError() {
			return
		}
		for k, v := range values {
			if v.IsNull() {
				query[k] = nil // the real provider passes a null query value as JSON null
			} else {
				s := v.ValueString()
				query[k] = &s
			}
		}
	}
	stdin, err := json.Marshal(query)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("query"), "Query Handling Failed", err.Error())
		return
	}
	executable, err := exec.LookPath(args[0])
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("program"), "External Program Lookup Failed",
			fmt.Sprintf("The data source received an unexpected error while attempting to find the program.\n\n"+
				"The program must be accessible according to the platform where Terraform is running.\n\n"+
				"If the expected program should be automatically found on the platform where Terraform is running, "+
				"ensure that the program is in an expected directory.\n\nProgram: %s\nError: %s", args[0], err))
		return
	}
	cmd := exec.CommandContext(ctx, executable, args[1:]...)
	cmd.Dir = m.WorkingDir.ValueString()
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		detail := err.Error()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && stderr.Len() > 0 {
			detail = stderr.String()
		}
		resp.Diagnostics.AddAttributeError(path.Root("program"), "External Program Execution Failed",
			fmt.Sprintf("The data source received an unexpected error while attempting to execute the program.\n\n"+
				"Program: %s\nError Message: %s\nState: %s", executable, detail, err))
		return
	}
	result := map[string]string{}
	if err := json.Unmarshal(out, &result); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("program"), "Unexpected External Program Results",
			fmt.Sprintf("The data source received unexpected results after executing the program.\n\n"+
				"Program output must be a JSON encoded map of string keys and string values.\n\n"+
				"If the error is unclear, the output can be viewed by enabling Terraform's logging at TRACE level.\n\n"+
				"Program: %s\nResult Error: %s", executable, err))
		return
	}
	resultValue, diags := types.MapValueFrom(ctx, types.StringType, result)
	resp.Diagnostics.Append(diags...)
	m.Result = resultValue
	m.ID = types.StringValue("-")
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run with support for debuggers")
	version := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *version {
		fmt.Println(Version)
		return
	}
	err := providerserver.Serve(context.Background(), func() provider.Provider { return &standIn{} },
		providerserver.ServeOpts{Address: "registry.opentofu.org/hashicorp/external", Debug: debug})
	if err != nil {
		log.Fatal(err)
	}
}
