// Command terraform-provider-awsutils is tfgen's stand-in for cloudposse/awsutils in a
// real-provider rehearsal (`tfgen rehearse --provider real`): cloudposse/ses and
// cloudposse/iam-system-user require it, no mirror holds it, and the Go module proxy is
// no source of provider packages. It declares the one resource those modules use,
// awsutils_expiring_iam_access_key, with the real schema's attributes, so configurations
// that declare it validate and plan. Creating one is refused: it would be an IAM key
// made outside the real AWS provider, which the local server cannot stand for.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
)

// Version is the stand-in's own version; tfgen installs it under the version the
// configuration's constraint accepts.
var Version = "0.1.0-rehearsal"

type standIn struct{}

func (p *standIn) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "awsutils"
	resp.Version = Version
}

// Schema: the arguments the real provider's block takes that modules set, all optional.
func (p *standIn) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{Description: "tfgen rehearsal stand-in for cloudposse/awsutils",
		Attributes: map[string]pschema.Attribute{
			"region":     pschema.StringAttribute{Optional: true},
			"profile":    pschema.StringAttribute{Optional: true},
			"access_key": pschema.StringAttribute{Optional: true},
			"secret_key": pschema.StringAttribute{Optional: true, Sensitive: true},
		}}
}

func (p *standIn) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *standIn) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return &expiringKey{} }}
}

func (p *standIn) DataSources(context.Context) []func() datasource.DataSource { return nil }

type expiringKey struct{}

func (r *expiringKey) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_expiring_iam_access_key"
}

func (r *expiringKey) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	computed := func(sensitive bool) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, Sensitive: sensitive}
	}
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"user":                           schema.StringAttribute{Required: true, PlanModifiers: replace},
		"max_age":                        schema.Int64Attribute{Optional: true},
		"pgp_key":                        schema.StringAttribute{Optional: true, PlanModifiers: replace},
		"status":                         schema.StringAttribute{Optional: true, Computed: true},
		"id":                             computed(false),
		"create_date":                    computed(false),
		"key_fingerprint":                computed(false),
		"encrypted_secret":               computed(false),
		"encrypted_ses_smtp_password_v4": computed(false),
		"secret":                         computed(true),
		"ses_smtp_password_v4":           computed(true),
	}}
}

func (r *expiringKey) Create(_ context.Context, _ resource.CreateRequest, resp *resource.CreateResponse) {
	resp.Diagnostics.AddError("tfgen rehearsal stand-in",
		"awsutils_expiring_iam_access_key is declared by tfgen's stand-in of cloudposse/awsutils for plan only; it cannot be created in a rehearsal")
}

func (r *expiringKey) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}
func (r *expiringKey) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.Append(resp.State.Set(ctx, req.Plan.Raw)...)
}
func (r *expiringKey) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

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
		providerserver.ServeOpts{Address: "registry.opentofu.org/cloudposse/awsutils", Debug: debug})
	if err != nil {
		log.Fatal(err)
	}
}
