// Command terraform-provider-kubernetes is tfgen's stand-in for hashicorp/kubernetes: a
// unit whose catalog module configures kubernetes (providers: in the catalog, from an EKS
// cluster's outputs) must pass `tofu init` and `plan` on a machine with no provider
// registry, and the Go module proxy is no source of provider packages. The provider
// block takes the real provider's connection arguments (host, cluster_ca_certificate,
// token, exec { api_version, command, args, env } ...); it declares kubernetes_namespace
// and kubernetes_namespace_v1 with the real schema's metadata block. Nothing reaches a
// cluster: an apply records the planned namespace in the state.
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
	resp.TypeName = "kubernetes"
	resp.Version = Version
}

// ConnectionAttributes are the real provider's connection arguments, all optional; the
// helm stand-in's kubernetes block takes the same.
func ConnectionAttributes() map[string]pschema.Attribute {
	text := func(sensitive bool) pschema.Attribute {
		return pschema.StringAttribute{Optional: true, Sensitive: sensitive}
	}
	return map[string]pschema.Attribute{
		"host": text(false), "username": text(false), "password": text(true), "insecure": pschema.BoolAttribute{Optional: true},
		"tls_server_name": text(false), "client_certificate": text(false), "client_key": text(true),
		"cluster_ca_certificate": text(false), "config_path": text(false), "config_context": text(false),
		"config_context_auth_info": text(false), "config_context_cluster": text(false), "token": text(true),
		"proxy_url":    text(false),
		"config_paths": pschema.ListAttribute{ElementType: types.StringType, Optional: true},
	}
}

func execBlock() pschema.Block {
	return pschema.ListNestedBlock{
		NestedObject: pschema.NestedBlockObject{Attributes: map[string]pschema.Attribute{
			"api_version": pschema.StringAttribute{Required: true},
			"command":     pschema.StringAttribute{Required: true},
			"args":        pschema.ListAttribute{ElementType: types.StringType, Optional: true},
			"env":         pschema.MapAttribute{ElementType: types.StringType, Optional: true},
		}},
	}
}

func (p *standIn) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{Description: "tfgen rehearsal stand-in for hashicorp/kubernetes",
		Attributes: ConnectionAttributes(),
		Blocks:     map[string]pschema.Block{"exec": execBlock()}}
}

func (p *standIn) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *standIn) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return &namespace{suffix: "_namespace"} },
		func() resource.Resource { return &namespace{suffix: "_namespace_v1"} },
		// A service account has the same shape here: metadata (name, namespace, labels,
		// annotations such as IRSA's eks.amazonaws.com/role-arn) and an id.
		func() resource.Resource { return &namespace{suffix: "_service_account"} },
		func() resource.Resource { return &namespace{suffix: "_service_account_v1"} },
	}
}

func (p *standIn) DataSources(context.Context) []func() datasource.DataSource { return nil }

type namespace struct{ suffix string }

func (r *namespace) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + r.suffix
}

func (r *namespace) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"id":                               schema.StringAttribute{Computed: true},
			"wait_for_default_service_account": schema.BoolAttribute{Optional: true},
		},
		Blocks: map[string]schema.Block{"metadata": schema.ListNestedBlock{
			NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
				"name":        schema.StringAttribute{Optional: true, Computed: true},
				"namespace":   schema.StringAttribute{Optional: true},
				"annotations": schema.MapAttribute{ElementType: types.StringType, Optional: true},
				"labels":      schema.MapAttribute{ElementType: types.StringType, Optional: true},
			}},
		}},
	}
}

func (r *namespace) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.State.Raw = req.Plan.Raw
	var name types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("metadata").AtListIndex(0).AtName("name"), &name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), name.ValueString())...)
}

func (r *namespace) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}
func (r *namespace) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.Append(resp.State.Set(ctx, req.Plan.Raw)...)
}
func (r *namespace) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

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
		providerserver.ServeOpts{Address: "registry.opentofu.org/hashicorp/kubernetes", Debug: debug})
	if err != nil {
		log.Fatal(err)
	}
}
