// Command terraform-provider-null is tfgen's stand-in for hashicorp/null in a
// real-provider rehearsal (`tfgen rehearse --provider real`): no mirror on a machine
// without a registry holds it (the Go module proxy serves terraform-provider-null only at
// v1.0.0, below the ">= 2.0" terraform-aws-modules/lambda asks for). The stand-in
// implements null_resource as the real provider does: it does nothing itself, carries
// a random id, and is replaced when `triggers` change (its provisioners run then).
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Version is the stand-in's own version; tfgen installs it under the version the
// configuration's constraint accepts.
var Version = "0.1.0-rehearsal"

type standIn struct{}

func (p *standIn) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "null"
	resp.Version = Version
}

func (p *standIn) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{Description: "tfgen rehearsal stand-in for hashicorp/null"}
}

func (p *standIn) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *standIn) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return &nullResource{} }}
}

func (p *standIn) DataSources(context.Context) []func() datasource.DataSource { return nil }

type nullResource struct{}

type nullModel struct {
	ID       types.String `tfsdk:"id"`
	Triggers types.Map    `tfsdk:"triggers"`
}

func (r *nullResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_resource"
}

func (r *nullResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id": schema.StringAttribute{Computed: true,
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"triggers": schema.MapAttribute{ElementType: types.StringType, Optional: true,
			PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()}},
	}}
}

func (r *nullResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m nullModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		resp.Diagnostics.AddError("null_resource", err.Error())
		return
	}
	m.ID = types.StringValue(n.String())
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *nullResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}
func (r *nullResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.Append(resp.State.Set(ctx, req.Plan.Raw)...)
}
func (r *nullResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

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
		providerserver.ServeOpts{Address: "registry.opentofu.org/hashicorp/null", Debug: debug})
	if err != nil {
		log.Fatal(err)
	}
}
