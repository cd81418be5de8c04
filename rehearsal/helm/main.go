// Command terraform-provider-helm is tfgen's stand-in for hashicorp/helm (the 2.x
// provider): a unit whose catalog module configures helm (providers: in the catalog,
// from an EKS cluster's outputs) must pass `tofu init` and `plan` on a machine with no
// provider registry, and the Go module proxy is no source of provider packages. The
// provider block takes the real one's arguments and its kubernetes { ... exec { ... } }
// block; helm_release is declared with the arguments modules commonly set. Nothing
// reaches a cluster or a chart repository: an apply records the planned release.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Version is the stand-in's own version; tfgen installs it under the version the
// configuration's constraint accepts.
var Version = "0.1.0-rehearsal"

type standIn struct{}

func (p *standIn) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "helm"
	resp.Version = Version
}

func (p *standIn) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	text := func(sensitive bool) pschema.Attribute {
		return pschema.StringAttribute{Optional: true, Sensitive: sensitive}
	}
	exec := pschema.ListNestedBlock{NestedObject: pschema.NestedBlockObject{Attributes: map[string]pschema.Attribute{
		"api_version": pschema.StringAttribute{Required: true},
		"command":     pschema.StringAttribute{Required: true},
		"args":        pschema.ListAttribute{ElementType: types.StringType, Optional: true},
		"env":         pschema.MapAttribute{ElementType: types.StringType, Optional: true},
	}}}
	kubernetes := pschema.ListNestedBlock{NestedObject: pschema.NestedBlockObject{
		Attributes: map[string]pschema.Attribute{
			"host": text(false), "username": text(false), "password": text(true),
			"insecure": pschema.BoolAttribute{Optional: true}, "tls_server_name": text(false),
			"client_certificate": text(false), "client_key": text(true), "cluster_ca_certificate": text(false),
			"config_path": text(false), "config_context": text(false), "config_context_auth_info": text(false),
			"config_context_cluster": text(false), "token": text(true), "proxy_url": text(false),
			"config_paths": pschema.ListAttribute{ElementType: types.StringType, Optional: true},
		},
		Blocks: map[string]pschema.Block{"exec": exec},
	}}
	resp.Schema = pschema.Schema{Description: "tfgen rehearsal stand-in for hashicorp/helm",
		Attributes: map[string]pschema.Attribute{
			"debug": pschema.BoolAttribute{Optional: true}, "plugins_path": text(false),
			"registry_config_path": text(false), "repository_config_path": text(false),
			"repository_cache": text(false), "helm_driver": text(false),
			"burst_limit": pschema.Int64Attribute{Optional: true},
		},
		Blocks: map[string]pschema.Block{"kubernetes": kubernetes}}
}

func (p *standIn) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *standIn) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return &release{} }}
}

func (p *standIn) DataSources(context.Context) []func() datasource.DataSource { return nil }

type release struct{}

func (r *release) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_release"
}

func (r *release) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	optional := func() schema.StringAttribute { return schema.StringAttribute{Optional: true} }
	flag := func() schema.BoolAttribute { return schema.BoolAttribute{Optional: true} }
	setting := schema.ListNestedBlock{NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
		"name":  schema.StringAttribute{Required: true},
		"value": schema.StringAttribute{Required: true},
		"type":  optional(),
	}}}
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"id":               schema.StringAttribute{Computed: true},
			"name":             schema.StringAttribute{Required: true},
			"chart":            schema.StringAttribute{Required: true},
			"repository":       optional(),
			"version":          optional(),
			"namespace":        optional(),
			"description":      optional(),
			"create_namespace": flag(),
			"atomic":           flag(),
			"wait":             flag(),
			"wait_for_jobs":    flag(),
			"skip_crds":        flag(),
			"cleanup_on_fail":  flag(),
			"max_history":      schema.Int64Attribute{Optional: true},
			"timeout":          schema.Int64Attribute{Optional: true},
			"values":           schema.ListAttribute{ElementType: types.StringType, Optional: true},
			"status":           schema.StringAttribute{Computed: true},
		},
		Blocks: map[string]schema.Block{"set": setting, "set_sensitive": setting},
	}
}

func (r *release) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.State.Raw = req.Plan.Raw
	var name types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), name.ValueString())...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("status"), "deployed")...)
}

func (r *release) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}
func (r *release) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.Append(resp.State.Set(ctx, req.Plan.Raw)...)
}
func (r *release) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

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
		providerserver.ServeOpts{Address: "registry.opentofu.org/hashicorp/helm", Debug: debug})
	if err != nil {
		log.Fatal(err)
	}
}
